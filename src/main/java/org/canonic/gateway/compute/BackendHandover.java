package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.fleet.FleetException;
import org.canonic.gateway.fleet.LiveBackend;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Optional;

/**
 * The lifecycle actions on a rented instance and the hand-over to and from the fleet. The anti-stop guard lives
 * here: an instance whose backend has requests in flight, or served one recently, is not stopped or destroyed unless
 * forced; forced means drain first (up to a deadline), then act, then confirm by re-reading. One action at a time
 * (admin calls and the watch share {@link #actions}).
 */
public final class BackendHandover {

    private static final Logger LOG = Logger.getLogger(BackendHandover.class);

    static final int UNLOCK_TRIES = 3;

    private final ComputeService s;
    /** Serializes the actions on instances: admin calls and the watch's steps never interleave. */
    private final Object actions = new Object();

    BackendHandover(ComputeService service) {
        this.s = service;
    }

    /** Runs one of the watch's steps on an instance with no admin action interleaving (the actions' lock). */
    void exclusively(Runnable step) {
        synchronized (actions) {
            step.run();
        }
    }

    public ObjectNode stop(String id, boolean force, long drainMs, String caller, Long fencing) {
        synchronized (actions) {
            TrackedInstance t = s.find(id);
            requireState(t, "stop", TrackedInstance.State.WAITING, TrackedInstance.State.READY,
                    TrackedInstance.State.FAILED);
            stopNow(t, force, drainMs, caller, fencing, null);
            return s.view(t);
        }
    }

    public ObjectNode start(String id, String caller, Long fencing) {
        synchronized (actions) {
            TrackedInstance t = s.find(id);
            requireState(t, "start", TrackedInstance.State.STOPPED, TrackedInstance.State.FAILED);
            ComputeProvider p = s.provider(t.provider());
            act(t, "start", caller, fencing, () -> p.setState(t.providerId(), true));
            // The endpoint is re-resolved after every start (waiting clears it): host ports can change.
            s.states.waiting(t, s.clock.millis() + s.config.readinessDeadline().toMillis());
            s.states.update(t, i -> {
                i.failure = null;
                i.cleanupPending = null; // an operator brought it back: no longer a clean-up to finish
            });
            done(t, "start", caller, fencing, TrackedInstance.State.WAITING);
            s.event(EventTypes.COMPUTE_STARTED, t, fencing);
            return s.view(t);
        }
    }

    public ObjectNode destroy(String id, boolean force, long drainMs, String caller, Long fencing) {
        synchronized (actions) {
            TrackedInstance t = s.find(id);
            if (!t.live()) {
                throw new ComputeException(409, "instance_destroyed", "Instance " + t.name() + " is already"
                        + " destroyed.");
            }
            destroyNow(t, force, drainMs, caller, fencing, null);
            return s.view(t);
        }
    }

    public ObjectNode reconfigure(String id, List<String> extraArgs, boolean force, long drainMs, String caller,
                                  Long fencing) {
        synchronized (actions) {
            TrackedInstance t = s.find(id);
            requireState(t, "reconfigure", TrackedInstance.State.WAITING, TrackedInstance.State.READY);
            ComputeProvider p = s.provider(t.provider());
            Recipe recipe = s.recipes.find(t.recipe()).orElseThrow(() -> new ComputeException(409,
                    "recipe_gone", "Recipe '" + t.recipe() + "' is no longer configured."));
            String key = s.keys.read(t.name()).orElseThrow(() -> new ComputeException(409, "key_missing",
                    "The instance key file is missing; destroy and provision again."));
            releaseBackend(t, force, drainMs, fencing);
            boolean tls = s.keys.certificate(t.name()).isPresent();
            actOrRequeue(t, "reconfigure", caller, fencing, () -> p.reconfigure(t.providerId(), recipe, key,
                    extraArgs, tls));
            s.states.waiting(t, s.clock.millis() + s.config.readinessDeadline().toMillis());
            done(t, "reconfigure", caller, fencing, TrackedInstance.State.WAITING);
            s.event(EventTypes.COMPUTE_RECONFIGURED, t, fencing, "args", extraArgs);
            return s.view(t);
        }
    }

    void stopNow(TrackedInstance t, boolean force, long drainMs, String caller, Long fencing, String reason) {
        ComputeProvider p = s.provider(t.provider());
        releaseBackend(t, force, drainMs, fencing);
        actOrRequeue(t, "stop", caller, fencing, () -> p.setState(t.providerId(), false));
        s.states.stopped(t);
        done(t, "stop", caller, fencing, TrackedInstance.State.STOPPED);
        s.event(EventTypes.COMPUTE_STOPPED, t, fencing, "reason", reason, "stopped_usd_per_hour", t.stoppedUsdPerHour());
    }

    void destroyNow(TrackedInstance t, boolean force, long drainMs, String caller, Long fencing, String reason) {
        ComputeProvider p = s.provider(t.provider());
        releaseBackend(t, force, drainMs, fencing);
        if (t.providerId() != null) {
            actOrRequeue(t, "destroy", caller, fencing, () -> p.destroy(t.providerId()));
        }
        s.states.update(t, i -> {
            i.moveTo(TrackedInstance.State.DESTROYED, s.clock.millis());
            i.endpoint = null;
            if (i.reservation != null) {
                // Settle the cap with what was really spent, not what was estimated.
                s.guard.ledger().settle(i.reservation, CostGuard.cents(i.spendUsd(s.clock.millis())));
                i.reservation = null;
            }
        });
        s.keys.delete(t.name());
        done(t, "destroy", caller, fencing, TrackedInstance.State.DESTROYED);
        s.event(EventTypes.COMPUTE_DESTROYED, t, fencing, "reason", reason, "spend_usd",
                ComputeService.round(t.spendUsd(s.clock.millis()), 4));
    }

    /**
     * Takes the instance's backend out of the fleet: refused (409) while it is busy unless forced; unlocks a RunPod
     * pod (so that it can be stopped) before anything else changes, retrying, so that a failed unlock leaves the
     * instance serving and the error reported rather than a locked, billing pod with no backend; then drains
     * (requests in flight finish, up to {@code drainMs}).
     */
    void releaseBackend(TrackedInstance t, boolean force, long drainMs, Long fencing) {
        Optional<LiveBackend> live = s.fleet.find(t.name());
        if (live.isPresent() && !force) {
            LiveBackend backend = live.get();
            int inFlight = backend.slots().inFlight();
            long last = backend.slots().lastReleaseMs();
            long idleMs = last == 0 ? Long.MAX_VALUE : System.currentTimeMillis() - last;
            if (inFlight > 0 || idleMs < s.config.recentTraffic().toMillis()) {
                throw new ComputeException(409, "instance_busy", "Instance " + t.name() + " is serving: "
                        + (inFlight > 0 ? inFlight + " requests in flight" : "it served a request "
                        + idleMs / 1000 + " s ago") + ". Pass force=true to drain it first (up to "
                        + drainMs / 1000 + " s), then act.");
            }
        }
        // A provider-side stop guard (RunPod's locked) is lifted first.
        boolean guarded = s.provider(t.provider()).capabilities().stopLock() && t.providerId() != null;
        if (guarded && live.isPresent()) {
            unlock(t);
        } else if (guarded) {
            // No backend to strand: a machine that does not serve (failed, exited) is unlocked if RunPod lets it, and
            // the action goes on either way; RunPod itself says so if the lock still stands in its way.
            try {
                s.provider(t.provider()).lock(t.providerId(), false);
            } catch (ComputeException e) {
                LOG.warnf("Compute: unlocking pod %s of %s (not serving) failed, going on: %s", t.providerId(),
                        t.name(), e.getMessage());
            }
        }
        if (live.isPresent()) {
            try {
                s.fleet.deregister(t.name(), drainMs, fencing);
            } catch (FleetException e) {
                if (e.status() != 404) {
                    if (guarded) {
                        relock(t);
                    }
                    throw new ComputeException(e.status(), e.code(), e.getMessage());
                }
            }
            long until = System.currentTimeMillis() + drainMs + 2000;
            while (s.fleet.find(t.name()).isPresent() && System.currentTimeMillis() < until) {
                ProviderHttp.sleep(50);
            }
            LOG.infof("Compute: %s left the fleet (drained)", t.name());
        }
    }

    /** Unlocks a RunPod pod, three tries over ~1.5 s; nothing else has changed yet when it finally fails. */
    private void unlock(TrackedInstance t) {
        ComputeException last = null;
        for (int attempt = 0; attempt < UNLOCK_TRIES; attempt++) {
            if (attempt > 0) {
                ProviderHttp.sleep(500L * attempt);
            }
            try {
                s.provider(t.provider()).lock(t.providerId(), false);
                return;
            } catch (ComputeException e) {
                last = e;
                LOG.warnf("Compute: unlocking pod %s of %s failed (try %d of %d): %s", t.providerId(), t.name(),
                        attempt + 1, UNLOCK_TRIES, e.getMessage());
            }
        }
        throw new ComputeException(502, "unlock_failed", "RunPod did not unlock pod " + t.providerId() + " of "
                + t.name() + " (" + last.getMessage() + "); nothing was changed: it still serves. Try again.");
    }

    private void relock(TrackedInstance t) {
        try {
            s.provider(t.provider()).lock(t.providerId(), true);
        } catch (ComputeException e) {
            LOG.warnf("Compute: could not lock pod %s of %s again: %s", t.providerId(), t.name(), e.getMessage());
        }
    }

    /**
     * {@link #act} after the backend left the fleet: if the provider call fails, an instance that was serving goes
     * back to waiting, so the watch registers it again once it answers (it was not stopped).
     */
    private void actOrRequeue(TrackedInstance t, String action, String caller, Long fencing, Runnable call) {
        try {
            act(t, action, caller, fencing, call);
        } catch (ComputeException e) {
            s.states.update(t, i -> {
                if (i.state() == TrackedInstance.State.READY) {
                    s.states.waiting(i, s.clock.millis() + s.config.readinessDeadline().toMillis());
                }
            });
            throw e;
        }
    }

    /** Records the intent, calls the provider, records a failure (and rethrows it). */
    private void act(TrackedInstance t, String action, String caller, Long fencing, Runnable call) {
        s.tracked.append(s.tracked.record(caller, t, action, fencing), "intent", null, t.state());
        try {
            call.run();
        } catch (ComputeException e) {
            ObjectNode failed = s.tracked.record(caller, t, action, fencing);
            s.tracked.append(failed, e.code(), e.getMessage(), t.state());
            throw e;
        }
    }

    private void done(TrackedInstance t, String action, String caller, Long fencing, TrackedInstance.State state) {
        ObjectNode line = s.tracked.record(caller, t, action, fencing);
        if (t.failure != null) {
            line.put("failure", t.failure);
        }
        s.tracked.append(line, "ok", null, state);
    }

    private static void requireState(TrackedInstance t, String action, TrackedInstance.State... allowed) {
        for (TrackedInstance.State state : allowed) {
            if (t.state() == state) {
                return;
            }
        }
        throw new ComputeException(409, "invalid_state", "Cannot " + action + " instance " + t.name() + " while it"
                + " is " + t.state().name().toLowerCase() + ".");
    }
}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.canonic.gateway.config.ComputeConfig;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.health.BackendState;
import org.jboss.logging.Logger;

import java.util.Locale;
import java.util.Optional;

/**
 * Instances the gateway already counts as serving or stopped are re-read on every watch tick, because the provider
 * can change them behind its back: an interruptible Vast.ai instance is outbid (it shows as stopped), a container
 * exits, an account out of credit is stopped, a machine disappears, or vLLM stops answering while the provider says
 * it runs. Left alone, such an instance would stay {@code ready} with its spend accruing at the running rate. Each
 * case drains the backend, marks the instance (state and reason), reports it (tracked line, {@code compute.interrupted}
 * event, {@code gateway.compute.interruptions{provider,kind}}) and settles its spend where it is gone. Then it is
 * cleaned up: a failed or unresponsive one is stopped or destroyed like a readiness failure
 * ({@code on-readiness-failure}), a stopped one destroyed or kept as {@code on-interruption} says; a clean-up the
 * provider refused is tried again on every poll ({@link TrackedInstance#cleanupPending}). Last, the service's
 * interruption listeners hear of it (a capacity policy replaces it). It also finishes actions a restart interrupted
 * (their intent without an outcome). Called under the handover's action monitor.
 */
final class ServingWatch {

    private static final Logger LOG = Logger.getLogger(ServingWatch.class);
    private static final long DRAIN_MS = 1000;

    private final ComputeService s;
    private final MeterRegistry registry;

    ServingWatch(ComputeService service, MeterRegistry registry) {
        this.s = service;
        this.registry = registry;
    }

    /** Re-reads a READY or STOPPED instance and acts on what changed. */
    void recheck(TrackedInstance t) {
        if (t.state() != TrackedInstance.State.READY && t.state() != TrackedInstance.State.STOPPED
                || t.providerId() == null) {
            return;
        }
        if (t.cleanupPending != null) {
            retryCleanup(t);
            return;
        }
        ComputeProvider p = s.provider(t.provider());
        Optional<InstanceInfo> read;
        try {
            read = p.get(t.providerId());
        } catch (ComputeException e) {
            s.states.note(t, "provider error while re-reading: " + e.getMessage());
            return;
        }
        boolean serving = t.state() == TrackedInstance.State.READY;
        if (read.isEmpty()) {
            interrupted(t, p.name() + " says the instance is gone", "gone", TrackedInstance.State.DESTROYED);
            told(t, serving, "gone");
            return;
        }
        InstanceInfo i = read.get();
        // Hosts can raise prices; the spend of a serving one follows what the provider reports.
        s.states.observed(t, i, t.state() == TrackedInstance.State.READY);
        if (t.state() == TrackedInstance.State.STOPPED) {
            if (i.status() == InstanceInfo.Status.RUNNING) {
                s.states.note(t, "running at " + p.name() + " although stopped here: it bills the running rate;"
                        + " stop or destroy it");
            }
            return;
        }
        if (i.status() == InstanceInfo.Status.STOPPED) {
            interrupted(t, "stopped by " + p.name() + " (outbid, or out of credit): " + i.providerStatus(),
                    "stopped", TrackedInstance.State.STOPPED);
            if (s.config.onInterruption() == ComputeConfig.OnInterruption.DESTROY) {
                // Stopped is not free (storage bills on), and an outbid machine has lost its GPU to the higher bid.
                cleanUp(t, "destroy");
            }
            told(t, true, "stopped");
        } else if (i.status() == InstanceInfo.Status.FAILED) {
            interrupted(t, p.name() + " reports a failure: " + i.providerStatus()
                    + (i.message() == null ? "" : " (" + i.message() + ")"), "failed", TrackedInstance.State.FAILED);
            cleanUp(t, failurePolicy());
            told(t, true, "failed");
        } else {
            probeCheck(t, p);
        }
    }

    /**
     * A serving instance whose backend has been DOWN for the whole grace while the provider does not say it stopped
     * or failed: vLLM died, hangs, or the host lost its network. It serves nobody and bills the running rate.
     */
    private void probeCheck(TrackedInstance t, ComputeProvider p) {
        long grace = s.config.unresponsiveGrace().toMillis();
        var backend = s.fleet.find(t.name());
        var health = backend.map(b -> b.snapshot()).orElse(null);
        boolean down = grace > 0 && health != null && health.state() == BackendState.DOWN;
        if (!s.states.unresponsiveFor(t, down, grace)) {
            return;
        }
        long downMs = s.clock.millis() - s.states.unresponsiveSince(t);
        interrupted(t, "stopped answering its probes for " + downMs / 1000 + " s (grace " + grace / 1000 + " s: "
                + health.reason() + ") while " + p.name() + " reports " + t.providerStatus, "unresponsive",
                TrackedInstance.State.FAILED);
        cleanUp(t, failurePolicy());
        told(t, true, "unresponsive");
    }

    private void interrupted(TrackedInstance t, String reason, String kind, TrackedInstance.State state) {
        try {
            s.handover().releaseBackend(t, true, DRAIN_MS, null);
        } catch (ComputeException e) {
            // A pod that is gone cannot be unlocked; the backend has left the fleet all the same.
            LOG.infof("Compute: releasing the backend of %s: %s", t.name(), e.getMessage());
        }
        long now = s.clock.millis();
        s.states.lost(t, "interrupted: " + reason, state);
        if (state == TrackedInstance.State.DESTROYED) {
            s.settle(t, CostGuard.cents(t.spendUsd(now)));
            s.keys.delete(t.name());
        }
        ObjectNode line = s.tracked.record(ComputeWatch.SYSTEM, t, "interrupted", null);
        line.put("failure", t.failure);
        line.put("kind", kind);
        s.tracked.append(line, "ok", null, state);
        Counter.builder("gateway.compute.interruptions").description("Instances the provider stopped, failed or"
                + " removed, or that stopped answering their probes, while the gateway counted them as serving")
                .tag("provider", t.provider()).tag("kind", kind).register(registry).increment();
        s.event(EventTypes.COMPUTE_INTERRUPTED, t, null, "reason", reason, "kind", kind, "state",
                state.name().toLowerCase(Locale.ROOT), "provider_status", t.providerStatus, "spend_usd",
                ComputeService.round(t.spendUsd(now), 4));
        LOG.warnf("Compute: %s was %s", t.name(), t.failure);
    }

    /** Tells the listeners (capacity policies) of a lost serving instance, once it is cleaned up. */
    private void told(TrackedInstance t, boolean wasServing, String kind) {
        if (wasServing) {
            s.interrupted(new Interruption(t.name(), t.provider(), t.recipe(), kind, t.failure, t.state()));
        }
    }

    private String failurePolicy() {
        return s.config.onReadinessFailure().strip().toLowerCase(Locale.ROOT).equals("stop") ? "stop" : "destroy";
    }

    /** Stops or destroys a lost instance; a provider that refuses leaves it pending for the next poll. */
    private void cleanUp(TrackedInstance t, String action) {
        try {
            if (action.equals("stop")) {
                if (t.state() != TrackedInstance.State.STOPPED) {
                    s.handover().stopNow(t, true, DRAIN_MS, ComputeWatch.SYSTEM, null, t.failure);
                }
            } else {
                s.handover().destroyNow(t, true, DRAIN_MS, ComputeWatch.SYSTEM, null, t.failure);
            }
            t.cleanupPending = null;
        } catch (ComputeException e) {
            pending(t, action, e);
            s.states.note(t, action + " after the interruption failed (tried again on the next poll): "
                    + e.getMessage());
            LOG.warnf("Compute: %s after its interruption: %s", t.name(), e.getMessage());
        }
    }

    /**
     * Remembers a clean-up the provider refused, in memory and in the tracked file ({@code cleanup_pending}), so that
     * the watch tries it again on every poll, after a restart too.
     */
    void pending(TrackedInstance t, String action, ComputeException e) {
        if (action.equals(t.cleanupPending)) {
            return; // written already
        }
        t.cleanupPending = action;
        ObjectNode line = s.tracked.record(ComputeWatch.SYSTEM, t, "cleanup", null);
        line.put("cleanup_pending", action);
        s.tracked.append(line, "pending", e.getMessage(), t.state());
    }

    /** The clean-up a provider refused before, tried again (destroying what is gone counts as destroyed). */
    void retryCleanup(TrackedInstance t) {
        String action = t.cleanupPending;
        if (action != null && t.live()) {
            cleanUp(t, action);
        }
    }

    /**
     * Finishes an action a restart interrupted. A destroy is done again (destroying what is gone counts as
     * destroyed): the operator asked for it and the machine bills until it happens. A stop, start or reconfigure
     * takes the state the provider reports: stopped stays stopped, running waits for readiness again (and serves).
     */
    void finishInterrupted(TrackedInstance t) {
        String action = t.interruptedAction;
        t.interruptedAction = null;
        if (action == null || !t.live()) {
            return;
        }
        String reason = "the " + action + " a restart interrupted";
        if (action.equals("destroy") || t.providerId() == null) {
            try {
                s.handover().destroyNow(t, true, DRAIN_MS, ComputeWatch.SYSTEM, null, "finishing " + reason);
                LOG.warnf("Compute: %s destroyed, finishing %s", t.name(), reason);
            } catch (ComputeException e) {
                t.interruptedAction = action; // next tick
                s.states.note(t, "finishing " + reason + " failed: " + e.getMessage());
            }
            return;
        }
        ComputeProvider p = s.provider(t.provider());
        Optional<InstanceInfo> read;
        try {
            read = p.get(t.providerId());
        } catch (ComputeException e) {
            t.interruptedAction = action;
            return;
        }
        if (read.isEmpty()) {
            interrupted(t, p.name() + " says the instance is gone (after " + reason + ")", "gone",
                    TrackedInstance.State.DESTROYED);
            return;
        }
        boolean stopped = read.get().status() == InstanceInfo.Status.STOPPED;
        if (stopped) {
            s.states.stopped(t);
        } else {
            s.states.waiting(t, s.clock.millis() + s.config.readinessDeadline().toMillis());
        }
        ObjectNode line = s.tracked.record(ComputeWatch.SYSTEM, t, action, null);
        line.put("failure", reason + "; " + p.name() + " reports " + read.get().providerStatus());
        s.tracked.append(line, "reconciled", null, t.state());
        LOG.warnf("Compute: %s: %s; now %s", t.name(), reason, t.state());
    }
}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.canonic.gateway.coordination.EventTypes;
import org.jboss.logging.Logger;

import java.util.Locale;
import java.util.Optional;

/**
 * Instances the gateway already counts as serving or stopped are re-read on every watch tick, because the provider
 * can change them behind its back: an interruptible Vast.ai instance is outbid (it shows as stopped), a container
 * exits, an account out of credit is stopped, a machine disappears. Left alone, such an instance would stay
 * {@code ready} with its spend accruing at the running rate. Each case drains the backend, marks the instance
 * (state and reason), reports it (tracked line, {@code compute.interrupted} event,
 * {@code gateway.compute.interruptions{provider,kind}}) and settles its spend where it is gone; a failed one is then
 * stopped or destroyed like a readiness failure ({@code on-readiness-failure}). It also finishes actions a restart
 * interrupted (their intent without an outcome). Called under the handover's action monitor.
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
        ComputeProvider p = s.provider(t.provider());
        Optional<InstanceInfo> read;
        try {
            read = p.get(t.providerId());
        } catch (ComputeException e) {
            synchronized (s) {
                t.message = "provider error while re-reading: " + e.getMessage();
            }
            return;
        }
        if (read.isEmpty()) {
            interrupted(t, p.name() + " says the instance is gone", "gone", TrackedInstance.State.DESTROYED);
            return;
        }
        InstanceInfo i = read.get();
        synchronized (s) {
            t.providerStatus = i.providerStatus();
            t.message = i.message();
            if (!Double.isNaN(i.usdPerHour()) && i.usdPerHour() > 0 && t.state() == TrackedInstance.State.READY) {
                // Hosts can raise prices; the spend follows what the provider reports.
                t.usdPerHour = i.usdPerHour();
            }
        }
        if (t.state() == TrackedInstance.State.STOPPED) {
            if (i.status() == InstanceInfo.Status.RUNNING) {
                synchronized (s) {
                    t.message = "running at " + p.name() + " although stopped here: it bills the running rate;"
                            + " stop or destroy it";
                }
            }
            return;
        }
        if (i.status() == InstanceInfo.Status.STOPPED) {
            interrupted(t, "stopped by " + p.name() + " (outbid, or out of credit): " + i.providerStatus(),
                    "stopped", TrackedInstance.State.STOPPED);
        } else if (i.status() == InstanceInfo.Status.FAILED) {
            interrupted(t, p.name() + " reports a failure: " + i.providerStatus()
                    + (i.message() == null ? "" : " (" + i.message() + ")"), "failed", TrackedInstance.State.FAILED);
            applyFailurePolicy(t);
        }
    }

    private void interrupted(TrackedInstance t, String reason, String kind, TrackedInstance.State state) {
        try {
            s.handover().releaseBackend(t, true, DRAIN_MS, null);
        } catch (ComputeException e) {
            // A pod that is gone cannot be unlocked; the backend has left the fleet all the same.
            LOG.infof("Compute: releasing the backend of %s: %s", t.name(), e.getMessage());
        }
        long now = s.clock.millis();
        synchronized (s) {
            t.failure = "interrupted: " + reason;
            t.endpoint = null;
            t.moveTo(state, now);
        }
        if (state == TrackedInstance.State.DESTROYED) {
            s.settle(t, CostGuard.cents(t.spendUsd(now)));
            s.keys.delete(t.name());
        }
        ObjectNode line = s.tracked.record(ComputeWatch.SYSTEM, t, "interrupted", null);
        line.put("failure", t.failure);
        s.tracked.append(line, "ok", null, state);
        Counter.builder("gateway.compute.interruptions").description("Instances the provider stopped, failed or"
                + " removed while the gateway counted them as serving").tag("provider", t.provider()).tag("kind", kind)
                .register(registry).increment();
        s.event(EventTypes.COMPUTE_INTERRUPTED, t, null, "reason", reason, "state",
                state.name().toLowerCase(Locale.ROOT), "provider_status", t.providerStatus, "spend_usd",
                ComputeService.round(t.spendUsd(now), 4));
        LOG.warnf("Compute: %s was %s", t.name(), t.failure);
    }

    private void applyFailurePolicy(TrackedInstance t) {
        String policy = s.config.onReadinessFailure().strip().toLowerCase(Locale.ROOT);
        try {
            if (policy.equals("stop")) {
                s.handover().stopNow(t, true, DRAIN_MS, ComputeWatch.SYSTEM, null, t.failure);
            } else {
                s.handover().destroyNow(t, true, DRAIN_MS, ComputeWatch.SYSTEM, null, t.failure);
            }
        } catch (ComputeException e) {
            LOG.warnf("Compute: %s after its failure: %s", t.name(), e.getMessage());
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
                synchronized (s) {
                    t.message = "finishing " + reason + " failed: " + e.getMessage();
                }
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
        long now = s.clock.millis();
        synchronized (s) {
            t.endpoint = null;
            if (stopped) {
                t.moveTo(TrackedInstance.State.STOPPED, now);
            } else {
                t.moveTo(TrackedInstance.State.WAITING, now);
                t.readinessDeadlineMs = now + s.config.readinessDeadline().toMillis();
            }
        }
        ObjectNode line = s.tracked.record(ComputeWatch.SYSTEM, t, action, null);
        line.put("failure", reason + "; " + p.name() + " reports " + read.get().providerStatus());
        s.tracked.append(line, "reconciled", null, t.state());
        LOG.warnf("Compute: %s: %s; now %s", t.name(), reason, t.state());
    }
}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The one owner of the tracked instances' bookkeeping and its lock: the map by name and every field of a
 * {@link TrackedInstance} that changes after its launch. The watches, the handover, the launcher and the lookup change
 * an instance only through these methods (named for what happened), so no other class takes this lock by hand or
 * reaches into another's monitor. Provider calls are never made under it; a compound read or change that spans
 * several instances (the views, the shared-stream replay) runs inside {@link #locked}.
 */
final class InstanceStates {

    private final Map<String, TrackedInstance> instances = new LinkedHashMap<>();
    private final LongSupplier now;

    /** @param now the service clock's epoch milliseconds (tests step it) */
    InstanceStates(LongSupplier now) {
        this.now = now;
    }

    /** Runs {@code work} under the lock (reentrant) and answers what it answered. */
    synchronized <T> T locked(Supplier<T> work) {
        return work.get();
    }

    /** Changes several fields of one instance at once, under the lock: for changes no named method covers. */
    synchronized void update(TrackedInstance t, Consumer<TrackedInstance> change) {
        change.accept(t);
    }

    // ---- the map ----

    synchronized void track(TrackedInstance instance) {
        instances.put(instance.name(), instance);
    }

    /** One record of the tracked file replayed onto the instance it names (start-up rebuild). */
    synchronized void replay(JsonNode record) {
        TrackedInstance.replay(instances, record);
    }

    /** What other replicas appended to the shared stream since {@code cursor}; answers the new cursor. */
    synchronized String replayShared(TrackedActions tracked, String cursor, long readinessDeadlineMs) {
        return tracked.replayShared(cursor, instances, readinessDeadlineMs);
    }

    synchronized TrackedInstance byName(String name) {
        return instances.get(name);
    }

    /** The last instance with that provider id. */
    synchronized Optional<TrackedInstance> byProviderId(String id) {
        return instances.values().stream().filter(i -> id.equals(i.providerId())).reduce((a, b) -> b);
    }

    synchronized List<TrackedInstance> all() {
        return List.copyOf(instances.values());
    }

    synchronized boolean isEmpty() {
        return instances.isEmpty();
    }

    // ---- what happened to one instance ----

    /** The provider's reading: its status words and message, and its rate where {@code followPrice}. */
    synchronized void observed(TrackedInstance t, InstanceInfo read, boolean followPrice) {
        t.providerStatus = read.providerStatus();
        t.message = read.message();
        if (followPrice && !Double.isNaN(read.usdPerHour()) && read.usdPerHour() > 0) {
            // Hosts can raise prices; the spend follows what the provider reports.
            t.usdPerHour = read.usdPerHour();
        }
    }

    /** A word for operators on what is going on with it (shown in the views). */
    synchronized void note(TrackedInstance t, String message) {
        t.message = message;
    }

    synchronized void failure(TrackedInstance t, String reason) {
        t.failure = reason;
    }

    /** Registered with the fleet at {@code endpoint} (its backend is PENDING until its probes pass). */
    synchronized void registered(TrackedInstance t, String endpoint) {
        t.endpoint = endpoint;
    }

    /**
     * Its probes passed: serving.
     *
     * @return how long its launch took, from the intent, when this is its first readiness after a launch (what a
     * request waking a route at zero is promised next time); -1 for a start or a return to serving
     */
    synchronized long ready(TrackedInstance t) {
        long at = now.getAsLong();
        long took = !t.everReady && t.stoppedMs == 0 && t.stoppedSinceMs == 0 ? at - t.createdAt().toEpochMilli() : -1;
        t.moveTo(TrackedInstance.State.READY, at);
        t.readyAtMs = at;
        return took;
    }

    /** Moves it to {@code state} now, nothing else. */
    synchronized void move(TrackedInstance t, TrackedInstance.State state) {
        t.moveTo(state, now.getAsLong());
    }

    /** Created, started or reconfigured: waiting for running + port + probes until {@code deadlineMs}. */
    synchronized void waiting(TrackedInstance t, long deadlineMs) {
        t.moveTo(TrackedInstance.State.WAITING, now.getAsLong());
        t.endpoint = null;
        t.readinessDeadlineMs = deadlineMs;
    }

    /** Stopped (by the gateway or under it): no endpoint any more. */
    synchronized void stopped(TrackedInstance t) {
        t.moveTo(TrackedInstance.State.STOPPED, now.getAsLong());
        t.endpoint = null;
    }

    /** Lost without being asked: out of routing already, marked with why, moved to {@code state}. */
    synchronized void lost(TrackedInstance t, String failure, TrackedInstance.State state) {
        t.failure = failure;
        t.endpoint = null;
        t.unresponsiveSinceMs = 0;
        t.moveTo(state, now.getAsLong());
    }

    /**
     * Whether its backend has been failing its probes for at least {@code graceMs}: {@code down} false resets the
     * count; the first DOWN seen starts it.
     */
    synchronized boolean unresponsiveFor(TrackedInstance t, boolean down, long graceMs) {
        if (!down) {
            t.unresponsiveSinceMs = 0;
            return false;
        }
        long at = now.getAsLong();
        if (t.unresponsiveSinceMs == 0) {
            t.unresponsiveSinceMs = at;
            return false;
        }
        return at - t.unresponsiveSinceMs >= graceMs;
    }

    /** Since when it has failed its probes (epoch ms), 0 when it does not. */
    synchronized long unresponsiveSince(TrackedInstance t) {
        return t.unresponsiveSinceMs;
    }
}

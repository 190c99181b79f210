package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.Map;

/**
 * What the gateway knows of one instance it rented, named by its label ({@code mg-<recipe>-<gatewayId>-<uuid8>}),
 * which is also its backend's name. Changed only through {@link InstanceStates}, under its lock; rebuilt at start
 * from the tracked-instances file (and then the provider).
 */
public final class TrackedInstance {

    public enum State {
        /** Intent written, provider not (yet) answered. */
        PROVISIONING,
        /** Created or started; waiting for running + port + probes. */
        WAITING,
        /** Registered and serving. */
        READY,
        STOPPED,
        FAILED,
        DESTROYED
    }

    private final String name;
    private final String provider;
    private final String recipe;
    String providerId;
    String offerId;
    double usdPerHour = Double.NaN;
    double stoppedUsdPerHour = Double.NaN;
    long estimateCents;
    double hours = Double.NaN;
    Integer idleStopMinutes;
    State state = State.PROVISIONING;
    String providerStatus;
    String message;
    String failure;
    String endpoint;
    String tier;
    long readinessDeadlineMs;
    long runningSinceMs;
    long runMs;
    long stoppedSinceMs;
    long stoppedMs;
    long readyAtMs;
    /** Whether it ever served (replayed too): only a first readiness measures how long a launch takes. */
    boolean everReady;
    Instant createdAt = Instant.now();
    SpendLedger.Reservation reservation;
    /**
     * A launch whose create failed ambiguously (or that a restart interrupted): until then (epoch ms) its label is
     * looked up; 0 when no lookup is pending.
     */
    long lookupUntilMs;
    /** The action of the last intent replayed without its outcome, or null. */
    String lastIntent;
    /**
     * While it serves: since when (the service clock, epoch ms) its backend has been DOWN although the provider says it
     * runs; 0 while its probes pass. Not persisted: a restart gives a dying instance its grace again.
     */
    long unresponsiveSinceMs;
    /**
     * The clean-up ({@code destroy} or {@code stop}) an interrupted or failed instance still needs because the
     * provider call failed; the watch tries it again on every poll, so it is never forgotten while it may bill.
     */
    volatile String cleanupPending;
    /** Set at start: an action (destroy, stop, start, reconfigure) a restart interrupted, for the watch to finish. */
    volatile String interruptedAction;
    /**
     * Billing periods that ended, as {start ms, end ms, 1 running / 0 stopped}: what {@link #spendUsd(long, long, long)}
     * needs to say what a given period cost. A handful per instance (one per state change), rebuilt by the replay.
     */
    private final java.util.List<long[]> endedPeriods = new java.util.ArrayList<>();

    public TrackedInstance(String name, String provider, String recipe) {
        this.name = name;
        this.provider = provider;
        this.recipe = recipe;
    }

    public String name() {
        return name;
    }

    public String provider() {
        return provider;
    }

    public String recipe() {
        return recipe;
    }

    /** When the launch was first written down (its intent). */
    public Instant createdAt() {
        return createdAt;
    }

    public String providerId() {
        return providerId;
    }

    public String offerId() {
        return offerId;
    }

    public double usdPerHour() {
        return usdPerHour;
    }

    public double stoppedUsdPerHour() {
        return stoppedUsdPerHour;
    }

    public long estimateCents() {
        return estimateCents;
    }

    public double hours() {
        return hours;
    }

    public Integer idleStopMinutes() {
        return idleStopMinutes;
    }

    public State state() {
        return state;
    }

    /** Whether it may bill: everything but destroyed (stopped still bills storage). */
    public boolean live() {
        return state != State.DESTROYED;
    }

    /**
     * Moves to {@code next}, keeping two clocks: running (WAITING or READY, billed at $/h) and stopped (billed for
     * storage).
     */
    void moveTo(State next, long nowMs) {
        boolean wasRunning = running(state);
        boolean isRunning = running(next);
        if (wasRunning && !isRunning && runningSinceMs > 0) {
            runMs += Math.max(0, nowMs - runningSinceMs);
            endedPeriods.add(new long[] {runningSinceMs, nowMs, 1});
            runningSinceMs = 0;
        } else if (!wasRunning && isRunning) {
            runningSinceMs = nowMs;
        }
        boolean wasStopped = state == State.STOPPED;
        boolean isStopped = next == State.STOPPED;
        if (wasStopped && !isStopped && stoppedSinceMs > 0) {
            stoppedMs += Math.max(0, nowMs - stoppedSinceMs);
            endedPeriods.add(new long[] {stoppedSinceMs, nowMs, 0});
            stoppedSinceMs = 0;
        } else if (!wasStopped && isStopped) {
            stoppedSinceMs = nowMs;
        }
        if (next == State.READY) {
            everReady = true;
        }
        state = next;
    }

    /**
     * Since when it has been on its way to serving (epoch ms): its launch (the intent) until it first served, the
     * start that woke it after that. Meaningful while PROVISIONING or WAITING.
     */
    public long wakingSinceMs() {
        if (!everReady && stoppedMs == 0 && stoppedSinceMs == 0) {
            return createdAt.toEpochMilli();
        }
        return runningSinceMs > 0 ? runningSinceMs : createdAt.toEpochMilli();
    }

    /** Hours billed at the running rate so far. */
    public double runningHours(long nowMs) {
        long ms = runMs + (runningSinceMs > 0 ? Math.max(0, nowMs - runningSinceMs) : 0);
        return ms / 3_600_000.0;
    }

    /** Hours stopped so far, billed for storage. */
    public double stoppedHours(long nowMs) {
        long ms = stoppedMs + (stoppedSinceMs > 0 ? Math.max(0, nowMs - stoppedSinceMs) : 0);
        return ms / 3_600_000.0;
    }

    /** Hours running x $/h, plus hours stopped x storage $/h: stopped is not free. */
    public double spendUsd(long nowMs) {
        double running = Double.isNaN(usdPerHour) ? 0 : runningHours(nowMs) * usdPerHour;
        double stopped = Double.isNaN(stoppedUsdPerHour) ? 0 : stoppedHours(nowMs) * stoppedUsdPerHour;
        return running + stopped;
    }

    /**
     * What the instance cost within {@code [fromMs, toMs)}: the overlap of every running period with it x $/h, plus
     * every stopped period's x storage $/h. Over its whole life this is {@link #spendUsd(long)}.
     */
    public double spendUsd(long fromMs, long toMs, long nowMs) {
        double hoursRunning = 0;
        double hoursStopped = 0;
        for (long[] period : endedPeriods) {
            double hours = overlapHours(period[0], period[1], fromMs, toMs);
            if (period[2] == 1) {
                hoursRunning += hours;
            } else {
                hoursStopped += hours;
            }
        }
        if (runningSinceMs > 0) {
            hoursRunning += overlapHours(runningSinceMs, nowMs, fromMs, toMs);
        }
        if (stoppedSinceMs > 0) {
            hoursStopped += overlapHours(stoppedSinceMs, nowMs, fromMs, toMs);
        }
        return (Double.isNaN(usdPerHour) ? 0 : hoursRunning * usdPerHour)
                + (Double.isNaN(stoppedUsdPerHour) ? 0 : hoursStopped * stoppedUsdPerHour);
    }

    private static double overlapHours(long start, long end, long fromMs, long toMs) {
        return Math.max(0, Math.min(end, toMs) - Math.max(start, fromMs)) / 3_600_000.0;
    }

    private static boolean running(State state) {
        return state == State.WAITING || state == State.READY;
    }

    /**
     * Replays one tracked record onto the instance it names, created from the record when {@code instances} has
     * none yet: the start-up rebuild from the file and the replay of the shared stream both read records this way.
     *
     * @return that instance, or null for a record that names none
     */
    static TrackedInstance replay(Map<String, TrackedInstance> instances, JsonNode record) {
        String name = record.path("instance").asText(null);
        if (name == null) {
            return null;
        }
        TrackedInstance instance = instances.computeIfAbsent(name, n -> new TrackedInstance(n,
                record.path("provider").asText(), record.path("recipe").asText()));
        instance.replay(record);
        return instance;
    }

    /** Replays one record of the tracked file onto this instance (start-up rebuild). */
    void replay(JsonNode record) {
        long at = Instant.parse(record.path("time").asText(Instant.now().toString())).toEpochMilli();
        if (record.path("action").asText().equals("provision") && record.path("result").asText().equals("intent")) {
            createdAt = Instant.ofEpochMilli(at);
        }
        if (record.hasNonNull("provider_id")) {
            providerId = record.get("provider_id").asText();
        }
        if (record.hasNonNull("offer")) {
            offerId = record.get("offer").asText();
        }
        if (record.path("usd_per_hour").isNumber()) {
            usdPerHour = record.get("usd_per_hour").asDouble();
        }
        if (record.path("stopped_usd_per_hour").isNumber()) {
            stoppedUsdPerHour = record.get("stopped_usd_per_hour").asDouble();
        }
        if (record.path("estimate_usd").isNumber()) {
            estimateCents = CostGuard.cents(record.get("estimate_usd").asDouble());
        }
        if (record.path("hours").isNumber()) {
            hours = record.get("hours").asDouble();
        }
        if (record.path("idle_stop_minutes").isInt()) {
            idleStopMinutes = record.get("idle_stop_minutes").asInt();
        }
        if (record.hasNonNull("failure")) {
            failure = record.get("failure").asText();
        }
        if (record.hasNonNull("lookup_until")) {
            lookupUntilMs = Instant.parse(record.get("lookup_until").asText()).toEpochMilli();
        }
        String action = record.path("action").asText();
        if (record.hasNonNull("cleanup_pending")) {
            cleanupPending = record.get("cleanup_pending").asText();
        } else if (action.equals("start") && "ok".equals(record.path("result").asText())) {
            cleanupPending = null; // an operator brought it back
        }
        if ("intent".equals(record.path("result").asText())) {
            lastIntent = action;
        } else if (action.equals(lastIntent)) {
            lastIntent = null;
        }
        if (record.hasNonNull("state")) {
            moveTo(State.valueOf(record.get("state").asText()), at);
        }
        if (state != State.PROVISIONING) {
            lookupUntilMs = 0;
        }
    }
}

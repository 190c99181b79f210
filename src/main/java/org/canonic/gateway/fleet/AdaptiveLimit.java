package org.canonic.gateway.fleet;

/**
 * An in-flight limit for one backend that follows the backend, learned from each attempt's time to first token
 * (TTFT): the first {@code data:} event of a stream, the response of a non-stream request (vLLM answers those only
 * once generated).
 *
 * <p>Why TTFT: vLLM runs up to its batch size of sequences at once and queues the rest inside itself. A request that
 * finds room starts at once, so its TTFT is about its prefill; a request that queues there waits for a sequence to
 * end, and its TTFT grows by that wait. A queue inside vLLM is one the gateway can no longer spill to another backend
 * or refuse cleanly, so the limit aims at the largest concurrency that keeps TTFT near its usual value.
 *
 * <p>The algorithm (a gradient limit, in the manner of TCP Vegas), per sample:
 * <ul>
 *   <li>two averages of TTFT: {@code recent} (exponential, about the last 10 samples) and {@code baseline} (the
 *       long-term usual value: it follows a faster sample within a few samples, a slower one only over hundreds, so a
 *       burst of queueing does not become the new normal but a backend that really got slower eventually does);</li>
 *   <li>shrink when {@code recent} and the sample both exceed {@link #TOLERANCE} x {@code baseline}: the limit is
 *       multiplied by {@code TOLERANCE x baseline / recent}, kept within [0.5, 0.9];</li>
 *   <li>grow by one when {@code recent} stays within {@link #GROW_BELOW} x {@code baseline} and the limit is being
 *       used (requests in flight at least {@link #USED} of it): a limit that is never reached proves nothing;</li>
 *   <li>halve on an overload signal from the backend (a connect, first-token or idle clock expiring, 429, 503);</li>
 *   <li>a decrease is made at most once per generation of requests: a sample of an attempt that started before the
 *       last decrease describes the load before it, and cutting again for it would cut twice for one cause;</li>
 *   <li>TTFT differences below {@link #NOISE_FLOOR_NANOS} are not a signal (scheduling, GC and loopback jitter):
 *       the baseline counts as at least that much;</li>
 *   <li>the limit stays within [min, max].</li>
 * </ul>
 * Growing by one per sample while requests wait means the limit can double once per round of first tokens (as TCP's
 * slow start), so a burst far above the initial limit is admitted within a few TTFTs when the backend keeps up.
 *
 * <p>Where the backend's {@code /metrics} says how many requests wait inside vLLM, that queue decides instead of TTFT:
 * TTFT also rises when the batch is busy prefilling other prompts (chunked prefill shares the GPU's steps), which more
 * concurrency does not make worse, only differently shared; a request that waits in vLLM's own queue is what the
 * limit exists to prevent. While a reading is fresh, the limit grows (by one per first token, when used) only while
 * vLLM's queue is empty, and shrinks by {@link #QUEUE_FACTOR} when two readings in a row show a queue; TTFT samples
 * do not shrink it. Overload signals (clocks, 429, 503) halve it either way.
 *
 * <p>Not thread-safe: its owner ({@link BackendSlots}) calls it under its monitor.
 */
final class AdaptiveLimit {

    static final double TOLERANCE = 2.0;
    static final double GROW_BELOW = 1.5;
    static final double USED = 0.8;
    static final double OVERLOAD_FACTOR = 0.5;
    static final double MIN_FACTOR = 0.5;
    static final double MAX_FACTOR = 0.9;
    static final long NOISE_FLOOR_NANOS = 25_000_000L;
    static final double QUEUE_FACTOR = 0.9;
    private static final double RECENT_WEIGHT = 0.1;
    private static final double BASELINE_UP_WEIGHT = 0.005;
    private static final double BASELINE_DOWN_WEIGHT = 0.2;

    private final int min;
    private final int max;
    private double limit;
    private double recent = Double.NaN;
    private double baseline = Double.NaN;
    private boolean decreased;
    private long lastDecreaseNanos;
    /** How long a reading of vLLM's queue stays fresh (0: readings are never used). */
    private final long queueFreshNanos;
    /** vLLM's queue at the last reading (-1: none yet), when it was read, and readings in a row with a queue. */
    private int queue = -1;
    private long queueAtNanos;
    private int queuedReadings;

    AdaptiveLimit(int initial, int min, int max) {
        this(initial, min, max, 0);
    }

    /** @param queueFreshNanos how long a reading of vLLM's queue ({@link #onQueue}) decides instead of TTFT */
    AdaptiveLimit(int initial, int min, int max, long queueFreshNanos) {
        this.queueFreshNanos = queueFreshNanos;
        if (min < 1 || min > max || initial < min || initial > max) {
            throw new IllegalArgumentException("need 1 <= min <= initial <= max, got " + min + ", " + initial + ", "
                    + max);
        }
        this.min = min;
        this.max = max;
        this.limit = initial;
    }

    /** The ceiling the limit never grows past. */
    int max() {
        return max;
    }

    int limit() {
        return (int) limit;
    }

    /** The long-term TTFT in nanoseconds (NaN before the first sample). */
    double baselineNanos() {
        return baseline;
    }

    /** The recent TTFT average in nanoseconds (NaN before the first sample). */
    double recentNanos() {
        return recent;
    }

    /**
     * An attempt started at {@code startNanos} saw its first token at {@code nowNanos}, with {@code inFlight}
     * requests on the backend (itself included). Returns whether the limit changed.
     */
    boolean onFirstToken(long startNanos, long nowNanos, int inFlight) {
        return onFirstToken(startNanos, nowNanos, 0, inFlight);
    }

    /**
     * As {@link #onFirstToken(long, long, int)}, with {@code explainedNanos} of the wait due to the prompt itself (its
     * prefill): only the rest is the sample, so a long prompt's TTFT is not read as the backend queueing.
     */
    boolean onFirstToken(long startNanos, long nowNanos, long explainedNanos, int inFlight) {
        double sample = Math.max(0, nowNanos - startNanos - Math.max(0, explainedNanos));
        if (Double.isNaN(baseline)) {
            baseline = sample;
            recent = sample;
        } else {
            recent += (sample - recent) * RECENT_WEIGHT;
            baseline += (sample - baseline) * (sample < baseline ? BASELINE_DOWN_WEIGHT : BASELINE_UP_WEIGHT);
        }
        if (queue >= 0 && nowNanos - queueAtNanos <= queueFreshNanos) {
            return queue == 0 && grow(inFlight);
        }
        double usual = Math.max(baseline, NOISE_FLOOR_NANOS);
        if (recent > TOLERANCE * usual && sample > TOLERANCE * usual) {
            double factor = Math.max(MIN_FACTOR, Math.min(MAX_FACTOR, TOLERANCE * usual / recent));
            return decrease(startNanos, nowNanos, factor);
        }
        return recent <= GROW_BELOW * usual && grow(inFlight);
    }

    /**
     * vLLM's own queue was read: {@code waiting} requests it has not scheduled. Two readings in a row with a queue
     * shrink the limit by {@link #QUEUE_FACTOR} (one could be a moment's burst). Returns whether the limit changed.
     */
    boolean onQueue(int waiting, long nowNanos) {
        queue = waiting;
        queueAtNanos = nowNanos;
        if (waiting == 0) {
            queuedReadings = 0;
            return false;
        }
        if (++queuedReadings < 2) {
            return false;
        }
        queuedReadings = 0;
        int before = limit();
        limit = Math.max(min, limit * QUEUE_FACTOR);
        return limit() != before;
    }

    /** One more, if the limit is being used (a limit that is never reached proves nothing). */
    private boolean grow(int inFlight) {
        if (inFlight < USED * limit || limit >= max) {
            return false;
        }
        int before = limit();
        limit = Math.min(max, limit + 1);
        return limit() != before;
    }

    /** The backend said it is overloaded (a clock expired, 429 or 503) for an attempt started at {@code startNanos}. */
    boolean onOverload(long startNanos, long nowNanos) {
        return decrease(startNanos, nowNanos, OVERLOAD_FACTOR);
    }

    private boolean decrease(long startNanos, long nowNanos, double factor) {
        if (decreased && startNanos - lastDecreaseNanos < 0) {
            return false;
        }
        decreased = true;
        lastDecreaseNanos = nowNanos;
        int before = limit();
        limit = Math.max(min, limit * factor);
        return limit() != before;
    }
}

package org.canonic.gateway.fleet;

/**
 * What a backend's time to first token (TTFT) costs, learned from its own streams: {@code TTFT = base + perToken x
 * uncached prompt tokens}, fitted by least squares over recent samples (exponentially weighted: about the last
 * {@link #MEMORY} first tokens count). vLLM's TTFT is mostly prefill, and prefill is linear in the tokens its prefix
 * cache did not already hold, so the fit's slope is the backend's prefill cost per token and its intercept is the
 * rest (scheduling, queueing, the first decode step).
 *
 * <p>Beside the fit it keeps how late first tokens come against it: a histogram (log-spaced buckets, decayed like the
 * fit) of each first token's TTFT over the fit's prediction, from which {@link Fit#lateRatio()} is the ratio that the
 * configured share of first tokens stays within. TTFT has a heavy tail under load (a prompt behind another's long
 * prefill waits for it), so "late" is measured against the tail this backend really has, not against a mean.
 *
 * <p>Three things read it: the first-token clock of an attempt (a long cold prompt gets time in proportion), the
 * hedging threshold (late for its size, beyond what nearly all first tokens needed), and the adaptive concurrency
 * limit, which must not read a long prompt's prefill as congestion. Until {@link #MIN_SAMPLES} samples of different
 * sizes arrived, the slope is the configured prior; until {@link #MIN_LATE_SAMPLES}, the late ratio is
 * {@link #PRIOR_LATE_RATIO}.
 *
 * <p>Updated from any event loop (one lock, a few multiplications); read without locking (the fit is published as one
 * immutable value).
 */
public final class TtftModel {

    static final int MEMORY = 50;
    static final int MIN_SAMPLES = 8;
    static final int MIN_LATE_SAMPLES = 20;
    static final int RECENT = 64;
    static final double PRIOR_LATE_RATIO = 4;
    /** Ratio buckets: from 1/8 of the prediction up, each 25 % wider than the one before (up to ~5000x). */
    private static final double FIRST_RATIO = 0.125;
    private static final double RATIO_STEP = 1.25;
    private static final int RATIO_BUCKETS = 48;
    /** The lateness histogram remembers about the last 200 first tokens: its tail needs more than the fit. */
    private static final double LATE_DECAY = 1.0 - 1.0 / 200;
    /** Predictions below this are not divided by (a ratio of a near-zero prediction means nothing). */
    private static final double MIN_PREDICTION_NANOS = 10_000_000;
    private static final double DECAY = 1.0 - 1.0 / MEMORY;
    /** Bounds on the learned per-token cost: a fit outside them is noise (one token in 1 us .. 10 ms). */
    private static final double MIN_NANOS_PER_TOKEN = 1_000;
    private static final double MAX_NANOS_PER_TOKEN = 10_000_000;

    /**
     * The published fit, and {@code lateRatio}: the TTFT over prediction that the configured share of recent first
     * tokens stayed within (a first token later than {@code predictNanos x lateRatio} is late).
     */
    public record Fit(double baseNanos, double nanosPerToken, double lateRatio, int samples) {

        /** The expected TTFT of a prompt with {@code uncachedTokens} the backend must prefill. */
        public double predictNanos(long uncachedTokens) {
            return baseNanos + nanosPerToken * Math.max(0, uncachedTokens);
        }

        /** The part of a TTFT that is prefill of {@code uncachedTokens}. */
        public double prefillNanos(long uncachedTokens) {
            return nanosPerToken * Math.max(0, uncachedTokens);
        }
    }

    private final double priorNanosPerToken;
    private double weight;
    private double sumTokens;
    private double sumNanos;
    private double sumTokensSquared;
    private double sumTokensNanos;
    private int samples;
    private final double latePercentile;
    private final double[] lateness = new double[RATIO_BUCKETS];
    /** The last {@value #RECENT} TTFTs as they were, whatever the prompt: for the operator's p50, not for routing. */
    private final long[] recent = new long[RECENT];
    private int recentCount;
    private volatile Fit fit;

    /**
     * @param priorTokensPerSecond the prefill rate assumed before the backend's own samples tell
     * @param latePercentile       the share of first tokens (0..1) that {@link Fit#lateRatio()} covers
     */
    public TtftModel(double priorTokensPerSecond, double latePercentile) {
        this.priorNanosPerToken = clamp(1e9 / Math.max(1, priorTokensPerSecond));
        this.latePercentile = Math.min(1, Math.max(0, latePercentile));
        this.fit = new Fit(0, priorNanosPerToken, PRIOR_LATE_RATIO, 0);
    }

    public Fit fit() {
        return fit;
    }

    /** The median of the last {@value #RECENT} first tokens in nanoseconds, or NaN before the first one. */
    public synchronized double recentMedianNanos() {
        int n = Math.min(recentCount, RECENT);
        if (n == 0) {
            return Double.NaN;
        }
        long[] sorted = java.util.Arrays.copyOf(recent, n);
        java.util.Arrays.sort(sorted);
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    }

    /** The first tokens sampled after the first {@code seen} (at most the last {@value #RECENT}), and how many in all. */
    public record Recent(long count, long[] nanos) {
    }

    /** What came since a reader last looked ({@code seen}: the count it got then; 0 the first time). */
    public synchronized Recent recentSince(long seen) {
        long count = recentCount;
        long from = Math.max(Math.max(0, seen), count - Math.min(count, RECENT));
        long[] nanos = new long[(int) Math.max(0, count - from)];
        for (long k = from; k < count; k++) {
            nanos[(int) (k - from)] = recent[(int) (k % RECENT)];
        }
        return new Recent(count, nanos);
    }

    /** A stream's first token came {@code ttftNanos} after its request was sent, with this many tokens to prefill. */
    public synchronized void sample(long uncachedTokens, long ttftNanos) {
        double u = Math.max(0, uncachedTokens);
        double t = Math.max(0, ttftNanos);
        countLateness(t / Math.max(MIN_PREDICTION_NANOS, fit.predictNanos(uncachedTokens)));
        recent[recentCount++ % RECENT] = (long) t;
        weight = weight * DECAY + 1;
        sumTokens = sumTokens * DECAY + u;
        sumNanos = sumNanos * DECAY + t;
        sumTokensSquared = sumTokensSquared * DECAY + u * u;
        sumTokensNanos = sumTokensNanos * DECAY + u * t;
        samples++;
        double meanTokens = sumTokens / weight;
        double meanNanos = sumNanos / weight;
        double variance = sumTokensSquared / weight - meanTokens * meanTokens;
        double slope = priorNanosPerToken;
        // Sizes must differ by some hundreds of tokens for a slope to mean anything.
        if (samples >= MIN_SAMPLES && variance > 100.0 * 100.0) {
            slope = clamp((sumTokensNanos / weight - meanTokens * meanNanos) / variance);
        }
        double base = Math.max(0, meanNanos - slope * meanTokens);
        fit = new Fit(base, slope, samples >= MIN_LATE_SAMPLES ? lateRatio() : PRIOR_LATE_RATIO, samples);
    }

    private void countLateness(double ratio) {
        int bucket = 0;
        for (double edge = FIRST_RATIO * RATIO_STEP; ratio >= edge && bucket < RATIO_BUCKETS - 1; edge *= RATIO_STEP) {
            bucket++;
        }
        for (int i = 0; i < RATIO_BUCKETS; i++) {
            lateness[i] *= LATE_DECAY;
        }
        lateness[bucket] += 1;
    }

    /** The upper edge of the bucket where the counted share of first tokens reaches the late percentile (>= 1). */
    private double lateRatio() {
        double total = 0;
        for (double count : lateness) {
            total += count;
        }
        double within = 0;
        double edge = FIRST_RATIO * RATIO_STEP;
        for (int i = 0; i < RATIO_BUCKETS; i++, edge *= RATIO_STEP) {
            within += lateness[i];
            if (within >= latePercentile * total) {
                break;
            }
        }
        return Math.max(1, edge);
    }

    private static double clamp(double nanosPerToken) {
        return Math.max(MIN_NANOS_PER_TOKEN, Math.min(MAX_NANOS_PER_TOKEN, nanosPerToken));
    }
}

package org.canonic.gateway.fleet;

/**
 * What a backend's time to first token (TTFT) costs, learned from its own streams: {@code TTFT = base + perToken x
 * uncached prompt tokens}, fitted by least squares over recent samples (exponentially weighted: about the last
 * {@link #MEMORY} first tokens count). vLLM's TTFT is mostly prefill, and prefill is linear in the tokens its prefix
 * cache did not already hold, so the fit's slope is the backend's prefill cost per token and its intercept is the
 * rest (scheduling, queueing, the first decode step).
 *
 * <p>Three things read it: the first-token clock of an attempt (a long cold prompt gets time in proportion), the
 * hedging threshold (late for its size, not late in general), and the adaptive concurrency limit, which must not read
 * a long prompt's prefill as congestion. Until {@link #MIN_SAMPLES} samples of different sizes arrived, the slope is
 * the configured prior.
 *
 * <p>Updated from any event loop (one lock, a few multiplications); read without locking (the fit is published as one
 * immutable value).
 */
public final class TtftModel {

    static final int MEMORY = 50;
    static final int MIN_SAMPLES = 8;
    private static final double DECAY = 1.0 - 1.0 / MEMORY;
    /** Bounds on the learned per-token cost: a fit outside them is noise (one token in 1 us .. 10 ms). */
    private static final double MIN_NANOS_PER_TOKEN = 1_000;
    private static final double MAX_NANOS_PER_TOKEN = 10_000_000;

    /** The published fit. */
    public record Fit(double baseNanos, double nanosPerToken, int samples) {

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
    private volatile Fit fit;

    /** @param priorTokensPerSecond the prefill rate assumed before the backend's own samples tell */
    public TtftModel(double priorTokensPerSecond) {
        this.priorNanosPerToken = clamp(1e9 / Math.max(1, priorTokensPerSecond));
        this.fit = new Fit(0, priorNanosPerToken, 0);
    }

    public Fit fit() {
        return fit;
    }

    /** A stream's first token came {@code ttftNanos} after its request was sent, with this many tokens to prefill. */
    public synchronized void sample(long uncachedTokens, long ttftNanos) {
        double u = Math.max(0, uncachedTokens);
        double t = Math.max(0, ttftNanos);
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
        fit = new Fit(base, slope, samples);
    }

    private static double clamp(double nanosPerToken) {
        return Math.max(MIN_NANOS_PER_TOKEN, Math.min(MAX_NANOS_PER_TOKEN, nanosPerToken));
    }
}

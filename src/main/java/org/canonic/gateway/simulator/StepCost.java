package org.canonic.gateway.simulator;

/**
 * How long one engine step takes: BLIS/inference-sim's linear step model, a fixed cost per step plus a cost per
 * prefilled and per decoded token of the step's batch, scaled by a speed factor (2.0 = a GPU twice as slow).
 *
 * @param baseMicros          fixed cost of a step (β0), µs
 * @param prefillMicrosPerToken cost of each prompt token prefilled in the step (β1), µs
 * @param decodeMicrosPerToken  cost of each token decoded in the step (β2), µs
 * @param speedFactor         multiplies the whole step
 */
public record StepCost(double baseMicros, double prefillMicrosPerToken, double decodeMicrosPerToken,
                       double speedFactor) {

    /**
     * Qwen2.5-7B-Instruct on one A100-80GB under vLLM 0.8.4, as fitted by inference-sim
     * ({@code inference-sim/inference-sim:coefficients.yaml}): a lone decode step takes ~10 ms, prefill runs at
     * ~12k tokens/s, a batch of 32 decodes takes ~12 ms per step.
     */
    public static final StepCost QWEN_7B_A100 = new StepCost(10041.7, 81.12, 59.99, 1.0);

    public StepCost withSpeedFactor(double factor) {
        return new StepCost(baseMicros, prefillMicrosPerToken, decodeMicrosPerToken, factor);
    }

    /** The step's duration in nanoseconds. */
    long nanos(int prefillTokens, int decodeTokens) {
        double micros = baseMicros + prefillMicrosPerToken * prefillTokens + decodeMicrosPerToken * decodeTokens;
        return Math.round(micros * speedFactor * 1000);
    }
}

package org.canonic.gateway.config;

import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;

/**
 * The embedded simulated vLLM: one simulated GPU per model, with vLLM's scheduler (continuous batching, chunked
 * prefill, a waiting queue, recompute preemption) and a KV cache with automatic prefix caching, timed by
 * BLIS/inference-sim's linear step model. Defaults: Qwen2.5-7B-Instruct on an A100 as vLLM serves it by default.
 * {@code SimulatorMain} runs the same simulator without the gateway, for benchmarks.
 */
public interface SimulatorConfig {
    /** Start the embedded simulated vLLM server. Never enable it in production. */
    @WithDefault("false")
    boolean enabled();

    /** Model ids the simulator serves, each on a GPU of its own and reported with {@link #maxModelLen()}. */
    @WithDefault("Qwen/Qwen2.5-7B-Instruct,deepseek-ai/deepseek-coder-6.7b-instruct")
    List<String> models();

    /** Context window the simulator reports on {@code /v1/models} and enforces. */
    @WithDefault("16384")
    int maxModelLen();

    /** Loopback port to listen on; 0 picks a free one. */
    @WithDefault("0")
    int port();

    /**
     * β0 of the step model, in µs: what every engine step costs, whatever its batch. 10041.7 µs is inference-sim's
     * fit for Qwen2.5-7B-Instruct on an A100-80GB under vLLM 0.8.4 ({@code inference-sim/inference-sim:
     * coefficients.yaml}); with the two below it gives ~10 ms per lone decode and ~12k prefill tokens/s.
     */
    @WithDefault("10041.7")
    double stepBaseMicros();

    /** β1, in µs: what each prompt token prefilled in a step adds to it (same fit). */
    @WithDefault("81.12")
    double prefillMicrosPerToken();

    /** β2, in µs: what each token decoded in a step adds to it (same fit). */
    @WithDefault("59.99")
    double decodeMicrosPerToken();

    /** Multiplies every step's duration: 2.0 is a GPU twice as slow, 0.5 one twice as fast. */
    @WithDefault("1.0")
    double speedFactor();

    /** Most requests running at once; the rest wait (vLLM's {@code --max-num-seqs}, default 256). */
    @WithDefault("256")
    int maxNumSeqs();

    /**
     * Token budget of one engine step, decodes and prefill chunks together (vLLM's
     * {@code --max-num-batched-tokens}; 8192 is its default for the OpenAI server with chunked prefill).
     */
    @WithDefault("8192")
    int maxNumBatchedTokens();

    /**
     * KV cache size in blocks of 16 tokens. 20000 blocks (320k tokens) is what an A100-40GB leaves for
     * Qwen2.5-7B's KV cache: at 57,344 bytes per token (28 layers x 2 x 4 KV heads x 128 x 2 bytes) they take
     * 18.4 GB, what remains of 0.9 x 40 GB after the 15 GB of weights (21 GB) and vLLM's activation workspace.
     * Must hold one {@link #maxModelLen()} sequence, as vLLM requires.
     */
    @WithDefault("20000")
    int kvBlocks();

    /**
     * Share of requests (0..1) whose first token is held back {@link #stallDuration()}, to exercise hedging: such
     * a request enters the engine's queue only after the stall, so the metrics do not show it meanwhile.
     */
    @WithDefault("0")
    double stallRate();

    /** How long a stalled request is held back before it joins the queue. */
    @WithDefault("5s")
    @WithConverter(MillisDurationConverter.class)
    Duration stallDuration();

    /** Seeds the stall draws, so a run stalls the same arrivals each time. */
    @WithDefault("1")
    long seed();
}

package org.canonic.gateway.simulator;

import org.canonic.gateway.config.SimulatorConfig;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything one simulated vLLM server runs with: from {@code gateway.simulator.*} when the gateway embeds it, from
 * {@link SimulatorMain}'s options when it runs alone. The defaults are the embedded simulator's and are documented on
 * {@link SimulatorConfig}.
 *
 * @param models              model ids served, each by a GPU of its own
 * @param host                address to listen on
 * @param port                port to listen on, 0 for a free one
 * @param maxModelLen         context window, reported and enforced
 * @param cost                the step-time model
 * @param maxNumSeqs          most requests running at once (vLLM {@code --max-num-seqs})
 * @param maxNumBatchedTokens token budget of one step (vLLM {@code --max-num-batched-tokens})
 * @param kvBlocks            KV cache size in blocks of 16 tokens
 * @param stallRate           share of requests whose first token is held back
 * @param stallDuration       how long such a request is held back
 * @param seed                seeds the stall draws
 */
public record SimulatorSettings(List<String> models, String host, int port, int maxModelLen, StepCost cost,
                                int maxNumSeqs, int maxNumBatchedTokens, int kvBlocks, double stallRate,
                                Duration stallDuration, long seed) {

    public static final String DEFAULT_MODEL = "Qwen/Qwen2.5-7B-Instruct";

    public SimulatorSettings {
        models = List.copyOf(models);
    }

    /** The embedded simulator's defaults, serving {@code models} on a free loopback port. */
    public static SimulatorSettings defaults(List<String> models) {
        return new SimulatorSettings(models, "127.0.0.1", 0, 16384, StepCost.QWEN_7B_A100, 256, 8192, 20000, 0,
                Duration.ofSeconds(5), 1);
    }

    public static SimulatorSettings of(SimulatorConfig config) {
        return new SimulatorSettings(config.models(), "127.0.0.1", config.port(), config.maxModelLen(),
                new StepCost(config.stepBaseMicros(), config.prefillMicrosPerToken(), config.decodeMicrosPerToken(),
                        config.speedFactor()),
                config.maxNumSeqs(), config.maxNumBatchedTokens(), config.kvBlocks(), config.stallRate(),
                config.stallDuration(), config.seed());
    }

    public SimulatorSettings withListener(String newHost, int newPort) {
        return new SimulatorSettings(models, newHost, newPort, maxModelLen, cost, maxNumSeqs, maxNumBatchedTokens,
                kvBlocks, stallRate, stallDuration, seed);
    }

    public SimulatorSettings withMaxModelLen(int tokens) {
        return new SimulatorSettings(models, host, port, tokens, cost, maxNumSeqs, maxNumBatchedTokens, kvBlocks,
                stallRate, stallDuration, seed);
    }

    public SimulatorSettings withCost(StepCost newCost) {
        return new SimulatorSettings(models, host, port, maxModelLen, newCost, maxNumSeqs, maxNumBatchedTokens,
                kvBlocks, stallRate, stallDuration, seed);
    }

    public SimulatorSettings withBatch(int newMaxNumSeqs, int newMaxNumBatchedTokens) {
        return new SimulatorSettings(models, host, port, maxModelLen, cost, newMaxNumSeqs, newMaxNumBatchedTokens,
                kvBlocks, stallRate, stallDuration, seed);
    }

    public SimulatorSettings withKvBlocks(int blocks) {
        return new SimulatorSettings(models, host, port, maxModelLen, cost, maxNumSeqs, maxNumBatchedTokens, blocks,
                stallRate, stallDuration, seed);
    }

    public SimulatorSettings withStalls(double rate, Duration duration, long newSeed) {
        return new SimulatorSettings(models, host, port, maxModelLen, cost, maxNumSeqs, maxNumBatchedTokens, kvBlocks,
                rate, duration, newSeed);
    }

    /**
     * What is wrong with these settings, one line each, naming each setting as {@code prefix} + its kebab-case name
     * ({@code gateway.simulator.} or {@code --}).
     */
    public List<String> problems(String prefix) {
        List<String> problems = new ArrayList<>();
        if (models.isEmpty()) {
            problems.add(prefix + "models must name at least one model");
        }
        if (port < 0 || port > 65535) {
            problems.add(prefix + "port must be 0..65535, got " + port);
        }
        atLeastOne(problems, prefix + "max-model-len", maxModelLen);
        atLeastOne(problems, prefix + "max-num-seqs", maxNumSeqs);
        atLeastOne(problems, prefix + "max-num-batched-tokens", maxNumBatchedTokens);
        atLeastOne(problems, prefix + "kv-blocks", kvBlocks);
        if (kvBlocks >= 1 && (long) kvBlocks * SequenceText.BLOCK_TOKENS < maxModelLen) {
            // vLLM refuses to start then too: one request of the full window must fit, or it could never run.
            problems.add(prefix + "kv-blocks (" + kvBlocks + " x " + SequenceText.BLOCK_TOKENS + " tokens) must hold "
                    + "one sequence of max-model-len (" + maxModelLen + " tokens)");
        }
        notNegative(problems, prefix + "step-base-micros", cost.baseMicros());
        notNegative(problems, prefix + "prefill-micros-per-token", cost.prefillMicrosPerToken());
        notNegative(problems, prefix + "decode-micros-per-token", cost.decodeMicrosPerToken());
        if (!(cost.speedFactor() > 0) || Double.isInfinite(cost.speedFactor())) {
            problems.add(prefix + "speed-factor must be a positive number, got " + cost.speedFactor());
        }
        if (!(stallRate >= 0 && stallRate <= 1)) {
            problems.add(prefix + "stall-rate must be between 0 and 1, got " + stallRate);
        }
        if (stallDuration.isNegative()) {
            problems.add(prefix + "stall-duration must not be negative, got " + stallDuration);
        }
        return problems;
    }

    private static void atLeastOne(List<String> problems, String name, int value) {
        if (value < 1) {
            problems.add(name + " must be at least 1, got " + value);
        }
    }

    private static void notNegative(List<String> problems, String name, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            problems.add(name + " must be a finite number >= 0, got " + value);
        }
    }
}

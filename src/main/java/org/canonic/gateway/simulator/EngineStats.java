package org.canonic.gateway.simulator;

/**
 * One engine's gauges and counters at one moment, what vLLM exports on {@code /metrics}. Counters count tokens, not
 * requests, where vLLM's do (prefix-cache queries and hits, prompt and generation tokens).
 */
record EngineStats(int running, int waiting, int blocksInUse, int blocks, long prefixCacheQueries,
                   long prefixCacheHits, long promptTokens, long generationTokens, long requestSuccesses,
                   long preemptions) {

    /** Share of the KV blocks held by running requests, 0..1; cached blocks nobody holds are free. */
    double kvCacheUsage() {
        return (double) blocksInUse / blocks;
    }
}

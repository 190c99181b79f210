package org.canonic.gateway.signals;

import java.util.Map;
import java.util.Set;

/**
 * What one vLLM server said about its own load in one scrape of {@code /metrics}. Numbers are the server's totals
 * over its engines (data-parallel ranks add up); the cache usage is the fullest engine's.
 *
 * @param running        sequences in the engine's batch ({@code vllm:num_requests_running})
 * @param waiting        requests queued inside vLLM, not yet scheduled ({@code vllm:num_requests_waiting})
 * @param kvCacheUsage   share of KV-cache blocks in use, 0..1 ({@code vllm:kv_cache_usage_perc}; before vLLM V1
 *                       {@code vllm:gpu_cache_usage_perc}); NaN when the page has neither
 * @param prefixQueries  prompt tokens looked up in the prefix cache since the server started (NaN when unknown)
 * @param prefixHits     of those, tokens found cached (NaN when unknown)
 * @param atNanos        when the answer arrived ({@link System#nanoTime()})
 */
public record VllmSignals(int running, int waiting, double kvCacheUsage, double prefixQueries, double prefixHits,
                          long atNanos) {

    static final String RUNNING = "vllm:num_requests_running";
    static final String WAITING = "vllm:num_requests_waiting";
    static final String KV_CACHE_USAGE = "vllm:kv_cache_usage_perc";
    static final String GPU_CACHE_USAGE = "vllm:gpu_cache_usage_perc";
    static final String PREFIX_QUERIES = "vllm:prefix_cache_queries_total";
    static final String PREFIX_HITS = "vllm:prefix_cache_hits_total";

    /** The families a scrape reads. */
    static final Set<String> FAMILIES = Set.of(RUNNING, WAITING, KV_CACHE_USAGE, GPU_CACHE_USAGE, PREFIX_QUERIES,
            PREFIX_HITS);

    /**
     * The signals on a parsed page, or null when it has no queue gauges: a page without them (another server's
     * metrics, an empty page) tells nothing about load, and "nothing" must not read as "idle".
     */
    static VllmSignals of(Map<String, PrometheusText.Aggregate> page, long atNanos) {
        PrometheusText.Aggregate running = page.get(RUNNING);
        PrometheusText.Aggregate waiting = page.get(WAITING);
        if (running == null || waiting == null || !finite(running.sum()) || !finite(waiting.sum())) {
            return null;
        }
        PrometheusText.Aggregate usage = page.getOrDefault(KV_CACHE_USAGE, page.get(GPU_CACHE_USAGE));
        return new VllmSignals((int) Math.max(0, Math.round(running.sum())), (int) Math.max(0, Math.round(waiting.sum())),
                usage == null ? Double.NaN : usage.max(), sum(page, PREFIX_QUERIES), sum(page, PREFIX_HITS), atNanos);
    }

    /**
     * The share of prompt tokens the server found in its prefix cache between {@code earlier} and this scrape, or NaN
     * when either scrape lacks the counters or nothing was looked up (a restarted server's counters start over).
     */
    public double prefixHitRatio(VllmSignals earlier) {
        if (earlier == null) {
            return Double.NaN;
        }
        double queries = prefixQueries - earlier.prefixQueries;
        double hits = prefixHits - earlier.prefixHits;
        return queries > 0 && hits >= 0 && hits <= queries ? hits / queries : Double.NaN;
    }

    private static double sum(Map<String, PrometheusText.Aggregate> page, String family) {
        PrometheusText.Aggregate aggregate = page.get(family);
        return aggregate == null ? Double.NaN : aggregate.sum();
    }

    private static boolean finite(double value) {
        return !Double.isNaN(value) && !Double.isInfinite(value);
    }
}

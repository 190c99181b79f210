package org.canonic.gateway.simulator;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * {@code /metrics} in Prometheus' text format, with vLLM V1's names, help texts and labels
 * ({@code engine="0"} and the model), one series per model: a router or benchmark reads the simulator as it would read
 * vLLM. Values are printed as vLLM's Python client prints them ({@code 12.0}), never in exponent notation.
 */
final class MetricsPage {

    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private record Family(String name, String type, String help, ToDoubleFunction<EngineStats> value) {
    }

    private static final List<Family> FAMILIES = List.of(
            new Family("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.",
                    EngineStats::running),
            new Family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.",
                    EngineStats::waiting),
            new Family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.",
                    EngineStats::kvCacheUsage),
            new Family("vllm:prefix_cache_queries_total", "counter",
                    "Prefix cache queries, in terms of number of queried tokens.", EngineStats::prefixCacheQueries),
            new Family("vllm:prefix_cache_hits_total", "counter",
                    "Prefix cache hits, in terms of number of cached tokens.", EngineStats::prefixCacheHits),
            new Family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.",
                    EngineStats::promptTokens),
            new Family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.",
                    EngineStats::generationTokens),
            new Family("vllm:request_success_total", "counter", "Count of successfully processed requests.",
                    EngineStats::requestSuccesses),
            new Family("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.",
                    EngineStats::preemptions));

    private MetricsPage() {
    }

    /** The page: every vLLM family with a series per model, then the simulator's own request counter. */
    static String render(Map<String, EngineStats> statsByModel, long requestsReceived) {
        StringBuilder page = new StringBuilder(4096);
        for (Family family : FAMILIES) {
            header(page, family.name(), family.type(), family.help());
            statsByModel.forEach((model, stats) -> page.append(family.name()).append("{engine=\"0\",model_name=\"")
                    .append(escape(model)).append("\"} ").append(number(family.value().applyAsDouble(stats)))
                    .append('\n'));
        }
        header(page, "simulator_requests_received_total", "counter",
                "Completion requests received by the simulator, aborted and refused ones included.");
        page.append("simulator_requests_received_total ").append(number(requestsReceived)).append('\n');
        return page.toString();
    }

    private static void header(StringBuilder page, String name, String type, String help) {
        page.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return (long) value + ".0";
        }
        return BigDecimal.valueOf(value).toPlainString();
    }

    /** A label value as the text format wants it: backslash, quote and newline escaped. */
    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}

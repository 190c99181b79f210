package org.canonic.gateway.telemetry;

import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import io.vertx.core.MultiMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampler against a Prometheus registry built as Quarkus builds it, all on one thread, which is where a trace
 * could leak from one request's recording into the next one's: the traced request's ids reach its duration and
 * time-to-first-token buckets only; once it is recorded, nothing of it is left on the thread.
 */
class TraceExemplarsTest {

    private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT,
            new CollectorRegistry(), Clock.SYSTEM, new TraceExemplars());
    private final Tracing tracing = new Tracing(Optional.empty(), "magic-gateway-test");
    private final Ledger ledger = new Ledger(Optional.empty(), 16, 1 << 20);
    private final Telemetry telemetry = new Telemetry(new GatewayMetrics(registry), ledger, false, tracing);

    @AfterEach
    void close() {
        ledger.close(1000);
        tracing.close();
    }

    private void streamed(String traceparent) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        if (traceparent != null) {
            headers.add("traceparent", traceparent);
        }
        RequestRecord record = telemetry.open("req", System.nanoTime(), headers);
        record.request("kilo", "main", "main-model", "chat", true);
        record.backend("alpha", 64);
        record.tokenEvent(System.nanoTime());
        record.tokenEvent(System.nanoTime());
        record.usage(11, 2, false);
        telemetry.close(record, Outcome.COMPLETED, 200, null);
    }

    private List<String> exemplarLines() {
        return registry.scrape(TextFormat.CONTENT_TYPE_OPENMETRICS_100).lines().filter(l -> l.contains(" # {"))
                .toList();
    }

    /** Each exemplar with its series, without the series' value (which moves with every observation). */
    private List<String> exemplars() {
        return exemplarLines().stream().map(l -> l.substring(0, l.indexOf("} ") + 1) + l.substring(l.indexOf(" # ")))
                .toList();
    }

    @Test
    void onlyTheTracedRequestsLatencyBucketsCarryItsTraceAndNothingStaysOnTheThread() {
        InMemorySpanExporter exporter = InMemorySpanExporter.create();
        tracing.export(exporter);
        streamed("00-" + TRACE_ID + "-b7ad6b7169203331-01");
        List<String> lines = exemplarLines();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("gen_ai_client_operation_duration_seconds_bucket{")
                && l.contains("trace_id=\"" + TRACE_ID + "\"") && l.contains("span_id=\"")), lines.toString());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("gen_ai_server_time_to_first_token_seconds_bucket{")
                && l.contains("trace_id=\"" + TRACE_ID + "\"")), lines.toString());
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("gateway_") || l.startsWith("gen_ai_client_token")
                || l.startsWith("gen_ai_server_time_per_output_token")), lines.toString());

        // what the registry would ask next on this thread, for any histogram: nothing to give
        assertNull(new TraceExemplars().sample(0.3, 0.25, 0.5, null));

        // the same labels, the same thread, the same buckets: the exemplars stay as they were, to the millisecond
        List<String> exemplars = exemplars();
        streamed("00-5af7651916cd43dd8448eb211c80319d-b7ad6b7169203331-00"); // the client sampled it out
        assertEquals(exemplars, exemplars());
        tracing.stopExporting(exporter);
        streamed(null);
        assertEquals(exemplars, exemplars());
    }

    @Test
    void tracingOffAddsNoExemplar() {
        streamed("00-" + TRACE_ID + "-b7ad6b7169203331-01");
        assertEquals(List.of(), exemplarLines());
    }
}

package org.canonic.gateway.telemetry;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.Metrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exemplars link the latency histograms to traces: a traced request's duration and time-to-first-token buckets on
 * {@code /q/metrics} carry its trace and span ids; counters never carry one; an untraced request (tracing off, or a
 * client that sampled its trace out) leaves every exemplar as it was, also right after a traced one.
 */
@QuarkusTest
class ExemplarsTest extends GatewayTest {

    private static final String DURATION = "gen_ai_client_operation_duration_seconds_bucket";
    private static final String TTFT = "gen_ai_server_time_to_first_token_seconds_bucket";
    private static final String REQUESTS = "gateway_requests_total";
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();

    private static Tracing tracing() {
        return Arc.container().instance(Tracing.class).get();
    }

    @AfterEach
    void off() {
        tracing().stopExporting(exporter);
    }

    /** A streamed request on route main, and the scrape once it is counted. */
    private Metrics streamed(String... headers) throws InterruptedException {
        alpha().then(Behavior.stream(3).tokenDelay(5));
        Metrics before = Metrics.scrape(management);
        assertEquals(200, gateway.post("/v1/chat/completions", chat("main-model", true), headers).statusCode());
        long deadline = System.nanoTime() + 5_000_000_000L;
        Metrics after = Metrics.scrape(management);
        while (after.sum(REQUESTS, "route", "main") <= before.sum(REQUESTS, "route", "main")
                && System.nanoTime() < deadline) {
            Thread.sleep(20);
            after = Metrics.scrape(management);
        }
        assertEquals(1, after.sum(REQUESTS, "route", "main") - before.sum(REQUESTS, "route", "main"));
        return after;
    }

    private static boolean links(Map<String, String> exemplars, SpanData span) {
        return exemplars.values().stream().anyMatch(e -> e.contains("trace_id=\"" + span.getTraceId() + "\"")
                && e.contains("span_id=\"" + span.getSpanId() + "\""));
    }

    @Test
    void aTracedRequestsDurationAndTimeToFirstTokenBucketsCarryItsTrace() throws Exception {
        tracing().export(exporter);
        Metrics after = streamed();
        SpanData request = exporter.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.SERVER)
                .findFirst().orElseThrow();

        Map<String, String> duration = after.exemplars(DURATION, "route", "main", "backend", "alpha",
                "outcome", "completed");
        assertTrue(links(duration, request), "request duration: " + duration);
        Map<String, String> ttft = after.exemplars(TTFT, "route", "main", "backend", "alpha");
        assertTrue(links(ttft, request), "time to first token: " + ttft);
        assertEquals(Map.of(), after.exemplars(REQUESTS), "counters carry none");
        assertEquals(Map.of(), after.exemplars("gen_ai_client_token_usage_bucket"), "nor token counts");
    }

    @Test
    void anUntracedRequestRightAfterATracedOneAddsNoExemplar() throws Exception {
        tracing().export(exporter);
        streamed(); // leaves exemplars, and whatever the recording thread might keep of them
        tracing().stopExporting(exporter);
        exporter.reset();
        Metrics before = Metrics.scrape(management);
        Metrics after = streamed();
        assertFalse(before.exemplars().isEmpty());
        assertEquals(before.exemplars(), after.exemplars(), "an untraced request changes no exemplar");
    }

    @Test
    void aClientThatSampledItsTraceOutGetsNoExemplar() throws Exception {
        tracing().export(exporter);
        String traceId = "5af7651916cd43dd8448eb211c80319d";
        Metrics after = streamed("traceparent", "00-" + traceId + "-b7ad6b7169203331-00");
        assertFalse(after.text().contains(traceId), "its spans are not exported: the link would lead nowhere");
    }
}

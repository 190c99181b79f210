package org.canonic.gateway.telemetry;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.Metrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exemplars link the latency histograms to traces: with traces exported (an OTLP endpoint, here a receiver in this
 * JVM), a traced request's duration and time-to-first-token buckets on {@code /q/metrics} carry its trace and span
 * ids; counters never carry one; a request whose client sampled its trace out leaves every exemplar as it was, also
 * right after a traced one. Without an endpoint the registry has no sampler at all ({@link TraceExemplarsTest}).
 */
@QuarkusTest
@TestProfile(ExemplarsTest.Otlp.class)
class ExemplarsTest extends GatewayTest {

    private static final String DURATION = "gen_ai_client_operation_duration_seconds_bucket";
    private static final String TTFT = "gen_ai_server_time_to_first_token_seconds_bucket";
    private static final String REQUESTS = "gateway_requests_total";
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();

    /** Traces go to an OTLP/HTTP receiver in this JVM that takes everything. */
    public static class Otlp implements QuarkusTestProfile {
        private static final String ENDPOINT = receiver();

        private static String receiver() {
            try {
                HttpServer server = Vertx.vertx().createHttpServer().requestHandler(request -> request.body()
                        .onComplete(body -> request.response().putHeader("content-type", "application/x-protobuf")
                                .end())).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get();
                return "http://127.0.0.1:" + server.actualPort() + "/v1/traces";
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gateway.telemetry.tracing.otlp-endpoint", ENDPOINT);
        }
    }

    private static Tracing tracing() {
        return Arc.container().instance(Tracing.class).get();
    }

    @BeforeEach
    void on() {
        tracing().export(exporter); // beside the OTLP exporter: to read the request's span ids
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
        Metrics after = Metrics.afterRequest(management, before, "main");
        assertEquals(1, after.sum(REQUESTS, "route", "main") - before.sum(REQUESTS, "route", "main"));
        return after;
    }

    private static boolean links(Map<String, String> exemplars, SpanData span) {
        return exemplars.values().stream().anyMatch(e -> e.contains("trace_id=\"" + span.getTraceId() + "\"")
                && e.contains("span_id=\"" + span.getSpanId() + "\""));
    }

    @Test
    void aTracedRequestsDurationAndTimeToFirstTokenBucketsCarryItsTrace() throws Exception {
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
    void aRequestWhoseClientSampledItsTraceOutRightAfterATracedOneAddsNoExemplar() throws Exception {
        Metrics before = streamed(); // leaves exemplars, and whatever the recording thread might keep of them
        String traceId = "5af7651916cd43dd8448eb211c80319d";
        Metrics after = streamed("traceparent", "00-" + traceId + "-b7ad6b7169203331-00");
        assertFalse(before.exemplars().isEmpty());
        assertEquals(before.exemplars(), after.exemplars(), "its spans are not exported: the link would lead nowhere");
        assertFalse(after.text().contains(traceId));
    }
}

package org.canonic.gateway.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayClient;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Traces over real HTTP through the fake vLLM, with an in-memory exporter: a span per request continuing the
 * client's {@code traceparent}, a child per attempt whose context the backend receives, GenAI attributes, and never
 * a prompt or a key. Off (no exporter), the client's {@code traceparent} passes through untouched and no span is made.
 */
@QuarkusTest
class TracingTest extends GatewayTest {

    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CLIENT_SPAN = "00f067aa0ba902b7";
    private static final String TRACEPARENT = "00-" + TRACE_ID + "-" + CLIENT_SPAN + "-01";
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();

    private static Tracing tracing() {
        return Arc.container().instance(Tracing.class).get();
    }

    @BeforeEach
    void on() {
        tracing().export(exporter);
    }

    @AfterEach
    void off() {
        tracing().stopExporting(exporter);
    }

    /** The spans once the request's own has ended (it ends when its record closes, after the answer). */
    private List<SpanData> spans(int attempts) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            List<SpanData> spans = exporter.getFinishedSpanItems();
            if (spans.stream().anyMatch(s -> s.getKind() == SpanKind.SERVER)
                    && spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT).count() >= attempts) {
                return spans;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("spans: " + exporter.getFinishedSpanItems());
    }

    private static SpanData request(List<SpanData> spans) {
        return spans.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
    }

    private static List<SpanData> attempts(List<SpanData> spans) {
        return spans.stream().filter(s -> s.getKind() == SpanKind.CLIENT)
                .sorted(java.util.Comparator.comparingLong(SpanData::getStartEpochNanos)).toList();
    }

    private static <T> T attr(SpanData span, AttributeKey<T> key) {
        return span.getAttributes().get(key);
    }

    @Test
    void aStreamContinuesTheClientsTraceAndTheBackendGetsTheAttemptsContext() throws Exception {
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", GatewayClient.chat("main-model", true),
                "traceparent", TRACEPARENT);
        assertEquals(200, answer.statusCode());
        List<SpanData> spans = spans(1);
        SpanData request = request(spans);
        assertEquals(TRACE_ID, request.getTraceId());
        assertEquals(CLIENT_SPAN, request.getParentSpanId());
        assertEquals("chat main-model", request.getName());
        assertEquals("chat", attr(request, RequestTrace.OPERATION));
        assertEquals("vllm", attr(request, RequestTrace.PROVIDER));
        assertEquals("main-model", attr(request, RequestTrace.REQUEST_MODEL));
        assertEquals(11L, attr(request, RequestTrace.INPUT_TOKENS));
        assertEquals(3L, attr(request, RequestTrace.OUTPUT_TOKENS));
        assertEquals(List.of("stop"), attr(request, RequestTrace.FINISH_REASONS));
        assertEquals("main", attr(request, RequestTrace.ROUTE));
        assertEquals("alpha", attr(request, RequestTrace.BACKEND));
        assertEquals("completed", attr(request, RequestTrace.OUTCOME));
        assertEquals(Boolean.TRUE, attr(request, RequestTrace.COMMITTED));
        assertNotNull(attr(request, RequestTrace.MAX_TOKENS));
        assertTrue(request.getEvents().stream().anyMatch(e -> e.getName().equals("gen_ai.first_token")),
                request.getEvents().toString());

        SpanData attempt = attempts(spans).get(0);
        assertEquals(TRACE_ID, attempt.getTraceId());
        assertEquals(request.getSpanId(), attempt.getParentSpanId());
        assertEquals("chat " + FakeBackends.ALPHA_MODEL, attempt.getName());
        assertEquals("127.0.0.1", attr(attempt, RequestTrace.SERVER_ADDRESS));
        assertEquals((long) FakeBackends.alpha().port(), attr(attempt, RequestTrace.SERVER_PORT));
        assertEquals(FakeBackends.ALPHA_MODEL, attr(attempt, RequestTrace.RESPONSE_MODEL));
        assertEquals("completed", attr(attempt, RequestTrace.OUTCOME));
        assertEquals(1L, attr(attempt, RequestTrace.TRY));
        // vLLM joins the trace under the attempt
        assertEquals("00-" + TRACE_ID + "-" + attempt.getSpanId() + "-01",
                FakeBackends.alpha().lastCompletion().headers.get("traceparent"));
    }

    @Test
    void aRetriedAndFailedOverRequestHasAnAttemptSpanPerTry() throws Exception {
        FakeBackends.alpha().then(Behavior.status(503), Behavior.status(503));
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", GatewayClient.chat("main-model", false));
        assertEquals(200, answer.statusCode(), answer.body());
        List<SpanData> spans = spans(3);
        SpanData request = request(spans);
        List<SpanData> attempts = attempts(spans);
        assertEquals(3, attempts.size(), spans.toString());
        assertEquals(List.of("alpha", "alpha", "beta"), attempts.stream()
                .map(a -> attr(a, RequestTrace.BACKEND)).toList());
        assertEquals(List.of(1L, 2L, 1L), attempts.stream().map(a -> attr(a, RequestTrace.TRY)).toList());
        assertEquals(StatusCode.ERROR, attempts.get(0).getStatus().getStatusCode());
        assertEquals(503L, attr(attempts.get(0), RequestTrace.STATUS));
        assertEquals(StatusCode.UNSET, attempts.get(2).getStatus().getStatusCode());
        attempts.forEach(a -> assertEquals(request.getSpanId(), a.getParentSpanId()));
        assertEquals("beta", attr(request, RequestTrace.BACKEND));
        assertEquals(3L, attr(request, RequestTrace.ATTEMPTS));
        assertEquals(11L, attr(request, RequestTrace.INPUT_TOKENS));
        // each try sent its own attempt's context
        List<String> sent = FakeBackends.alpha().completionRequests().stream()
                .map(r -> r.headers.get("traceparent")).toList();
        assertEquals(2, sent.size());
        assertFalse(sent.get(0).equals(sent.get(1)), sent.toString());
        assertTrue(sent.get(0).contains(attempts.get(0).getSpanId()), sent.toString());
    }

    @Test
    void aRequestEveryBackendFailedIsAnErrorSpan() throws Exception {
        FakeBackends.beta().then(Behavior.status(503));
        FakeBackends.omega().then(Behavior.status(503));
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", GatewayClient.chat("refused-model", false));
        assertTrue(answer.statusCode() >= 500, answer.body());
        SpanData request = request(spans(1));
        assertEquals(StatusCode.ERROR, request.getStatus().getStatusCode());
        assertEquals("failed", attr(request, RequestTrace.OUTCOME));
        assertNotNull(attr(request, RequestTrace.ERROR_TYPE));
        assertEquals(Boolean.FALSE, attr(request, RequestTrace.COMMITTED));
    }

    @Test
    void neverAPromptOrAKeyInASpan() throws Exception {
        String secretPrompt = "my-private-prompt-text-42";
        String body = "{\"model\":\"main-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\""
                + secretPrompt + "\"}]}";
        assertEquals(200, gateway.post("/v1/chat/completions", body, "authorization", "Bearer sk-client-key-ab12cd34")
                .statusCode());
        for (SpanData span : spans(1)) {
            String everything = span.getName() + span.getAttributes() + span.getEvents() + span.getResource();
            assertFalse(everything.contains(secretPrompt), everything);
            assertFalse(everything.contains(FakeBackends.ALPHA_KEY), everything);
            assertFalse(everything.contains("sk-client-key"), everything);
            assertFalse(everything.contains("tok0"), "completion text: " + everything);
        }
    }

    @Test
    void aStreamTheClientLeftIsCancelledNotAnError() throws Exception {
        FakeBackends.alpha().then(Behavior.stream(200).tokenDelay(50));
        try (org.canonic.gateway.testing.RawHttp client = org.canonic.gateway.testing.RawHttp.post(gatewayPort(),
                "/v1/chat/completions", GatewayClient.chat("main-model", true))) {
            client.readUntil("tok1");
        }
        List<SpanData> spans = spans(1);
        SpanData request = request(spans);
        assertEquals("cancelled", attr(request, RequestTrace.OUTCOME));
        assertEquals(Boolean.TRUE, attr(request, RequestTrace.COMMITTED), "tokens had gone out");
        assertEquals(StatusCode.UNSET, request.getStatus().getStatusCode());
        SpanData attempt = attempts(spans).get(0);
        assertEquals(request.getSpanId(), attempt.getParentSpanId());
        assertTrue(attempt.hasEnded());
        assertEquals(AttemptOutcome.CLIENT_CANCELLED.label(), attr(attempt, RequestTrace.OUTCOME));
        assertEquals(StatusCode.UNSET, attempt.getStatus().getStatusCode(), "the backend did nothing wrong");
        assertTrue(request.getEvents().stream().anyMatch(e -> e.getName().equals("gen_ai.first_token")));
    }

    /** The client leaves once the backend has the request, before anything came back. */
    private List<SpanData> leftBeforeAnyAnswer(boolean stream) throws Exception {
        int received = FakeBackends.alpha().completionRequests().size();
        try (RawHttp client = RawHttp.post(gatewayPort(), "/v1/chat/completions",
                GatewayClient.chat("main-model", stream))) {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (FakeBackends.alpha().completionRequests().size() == received && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(received + 1, FakeBackends.alpha().completionRequests().size(), "the backend has it");
        }
        FakeBackends.alpha().lastCompletion().closedEarly.get(5, TimeUnit.SECONDS);
        return spans(1);
    }

    private static void cancelledBeforeAnyToken(List<SpanData> spans) {
        SpanData request = request(spans);
        assertEquals("cancelled", attr(request, RequestTrace.OUTCOME));
        assertEquals(Boolean.FALSE, attr(request, RequestTrace.COMMITTED), "nothing had gone out");
        assertEquals(StatusCode.UNSET, request.getStatus().getStatusCode(), "a client leaving is not an error");
        assertEquals(null, attr(request, RequestTrace.ERROR_TYPE));
        assertFalse(request.getEvents().stream().anyMatch(e -> e.getName().equals("gen_ai.first_token")));
        List<SpanData> attempts = attempts(spans);
        assertEquals(1, attempts.size(), spans.toString());
        SpanData attempt = attempts.get(0);
        assertTrue(attempt.hasEnded());
        assertEquals(request.getSpanId(), attempt.getParentSpanId());
        assertEquals(AttemptOutcome.CLIENT_CANCELLED.label(), attr(attempt, RequestTrace.OUTCOME));
        assertEquals(StatusCode.UNSET, attempt.getStatus().getStatusCode());
        // the request's end is its record's (start + elapsed, in whole milliseconds), the attempt's the SDK clock's
        assertTrue(Math.abs(attempt.getEndEpochNanos() - request.getEndEpochNanos()) < 5_000_000,
                "ends with its request: " + (attempt.getEndEpochNanos() - request.getEndEpochNanos()) + " ns apart");
    }

    @Test
    void aStreamTheClientLeftBeforeItsFirstTokenEndsBothSpansAsCancelled() throws Exception {
        FakeBackends.alpha().then(Behavior.stream(3).firstTokenDelay(10_000));
        cancelledBeforeAnyToken(leftBeforeAnyAnswer(true));
    }

    @Test
    void aNonStreamRequestTheClientLeftEndsBothSpansAsCancelled() throws Exception {
        FakeBackends.alpha().then(Behavior.hang());
        cancelledBeforeAnyToken(leftBeforeAnyAnswer(false));
    }

    @Test
    void offTheClientsTraceparentPassesThroughUntouchedAndNoSpanIsMade() throws Exception {
        tracing().stopExporting(exporter);
        assertFalse(tracing().on());
        assertEquals(200, gateway.post("/v1/chat/completions", GatewayClient.chat("main-model", true),
                "traceparent", TRACEPARENT).statusCode());
        assertEquals(TRACEPARENT, FakeBackends.alpha().lastCompletion().headers.get("traceparent"));
        Thread.sleep(100);
        assertEquals(List.of(), exporter.getFinishedSpanItems());
    }
}

package org.canonic.gateway.relay;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.canonic.gateway.testing.GatewayClient.dataPayloads;
import static org.canonic.gateway.testing.GatewayClient.events;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** After the commit point, failures end the stream with an error event and [DONE]; keep-alives and clocks. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class StreamFailureTest extends GatewayTest {

    /** Checks the stream's end (an error event with {@code expectedCode}, then [DONE]) and returns that error. */
    private JsonNode assertEndsWithErrorThenDone(String body, String expectedCode) {
        List<String> payloads = dataPayloads(body);
        assertEquals("[DONE]", payloads.get(payloads.size() - 1), body);
        JsonNode error = json(payloads.get(payloads.size() - 2)).get("error");
        assertTrue(error != null && error.has("message") && error.has("type"), body);
        assertEquals(expectedCode, error.get("code").asText(), body);
        return error;
    }

    @Test
    void aMidStreamDropEndsTheClientStreamWithAnErrorEventAndDone() {
        alpha().then(Behavior.stream(10).dropAfter(3));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("tok2"), response.body());
        assertEndsWithErrorThenDone(response.body(), "upstream_stream_interrupted");
        assertEquals(0, beta().completionRequests().size(), "no fallback after the commit point");
    }

    @Test
    void anInBandErrorAfterTheFirstTokenIsRelayedAsAnErrorEvent() {
        alpha().then(Behavior.stream(10).errorAfter(2));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEndsWithErrorThenDone(response.body(), "upstream_stream_interrupted");
        assertTrue(response.body().contains("engine died"), response.body());
    }

    @Test
    void anInBandErrorBeforeAnyDataEventFallsBackToTheNextBackend() {
        alpha().always(Behavior.json(200, "data: {\"error\":{\"message\":\"engine dead\",\"type\":\"Error\","
                + "\"param\":null,\"code\":500}}\n\ndata: [DONE]\n\n").contentType("text/event-stream"));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEquals(200, response.statusCode());
        assertEquals("beta", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals(2, alpha().completionRequests().size());
        assertTrue(response.body().contains("tok2") && !response.body().contains("engine dead"), response.body());
    }

    @Test
    void aStreamThatEndsWithoutDoneIsReportedAsTruncated() {
        alpha().then(Behavior.stream(2).omitDone());

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEndsWithErrorThenDone(response.body(), "upstream_stream_interrupted");
    }

    @Test
    void keepAliveCommentsAreSentWhileTheFirstTokenIsDelayed() {
        alpha().then(Behavior.stream(2).firstTokenDelay(3 * FakeBackends.KEEP_ALIVE_MS));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEquals(200, response.statusCode());
        List<String> events = events(response.body());
        int firstData = indexOfFirst(events, "data:");
        long keepAlivesBeforeData = events.subList(0, firstData).stream().filter(e -> e.equals(": keep-alive")).count();
        assertTrue(keepAlivesBeforeData >= 2, "expected keep-alives before the first token: " + events);
        assertEquals("pending", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertTrue(response.body().contains(": provider=alpha attempts=1"), response.body());
        assertEquals("[DONE]", dataPayloads(response.body()).get(dataPayloads(response.body()).size() - 1));
    }

    @Test
    void keepAliveCommentsAreSentDuringALongGapBetweenTokens() {
        alpha().then(Behavior.stream(2).tokenDelay(3 * FakeBackends.KEEP_ALIVE_MS / 2));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        List<String> events = events(response.body());
        int firstData = indexOfFirst(events, "data:");
        assertTrue(events.subList(firstData, events.size()).contains(": keep-alive"), events.toString());
    }

    @Test
    void theIdleClockEndsAStreamThatStallsAfterTheFirstToken() {
        alpha().then(Behavior.stream(10).stallAfter(2));

        long start = System.nanoTime();
        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        JsonNode error = assertEndsWithErrorThenDone(response.body(), "upstream_stream_interrupted");
        assertTrue(error.get("message").asText().contains("idle timeout"), response.body());
        assertTrue(elapsedMs >= FakeBackends.ALPHA_IDLE_MS && elapsedMs < FakeBackends.ALPHA_TOTAL_MS, "" + elapsedMs);
    }

    @Test
    void theIdleClockStillRunsAfterAFirstTokenSlowerThanTheIdleClock() {
        // The attempt's one timer first fires at the shortest clock (idle) while still waiting for the first token:
        // it must sleep on, then hand over to the idle clock when the token comes, and still expire it.
        long firstTokenMs = FakeBackends.ALPHA_IDLE_MS + 200;
        alpha().then(Behavior.stream(10).firstTokenDelay(firstTokenMs).stallAfter(2));

        long start = System.nanoTime();
        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        JsonNode error = assertEndsWithErrorThenDone(response.body(), "upstream_stream_interrupted");
        assertTrue(error.get("message").asText().contains("idle timeout"), response.body());
        assertTrue(elapsedMs >= firstTokenMs + FakeBackends.ALPHA_IDLE_MS && elapsedMs < FakeBackends.ALPHA_TOTAL_MS,
                "" + elapsedMs);
    }

    @Test
    void theTotalClockEndsAStreamThatNeverFinishes() {
        // Tokens keep coming faster than the idle clock, but the whole answer outlasts the total clock.
        alpha().then(Behavior.stream(1000).tokenDelay(FakeBackends.ALPHA_IDLE_MS / 4));

        long start = System.nanoTime();
        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        // The answer was long, not broken: a code of its own, which no breaker counts (NonStreamDeadlineTest).
        assertEndsWithErrorThenDone(response.body(), "answer_time_limit");
        assertTrue(response.body().contains("gateway.defaults.clocks.total"), response.body());
        assertTrue(elapsedMs >= FakeBackends.ALPHA_TOTAL_MS && elapsedMs < FakeBackends.ALPHA_TOTAL_MS + 2000,
                "" + elapsedMs);
    }

    @Test
    void whenTheHeadLeftEarlyAFinalFailureIsAnErrorEventNotAStatus() {
        alpha().always(Behavior.hang());
        beta().always(Behavior.hang());
        FakeBackends.omega().always(Behavior.status(503));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEquals(200, response.statusCode(), "keep-alives committed the status line");
        assertTrue(response.body().startsWith(": keep-alive"), response.body());
        assertEndsWithErrorThenDone(response.body(), "upstream_unavailable");
    }

    private static int indexOfFirst(List<String> events, String prefix) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no event starting with " + prefix + " in " + events);
    }
}

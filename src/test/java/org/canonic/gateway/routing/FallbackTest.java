package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Retries within a backend's tries, then the next candidate, then the global fallback; request faults stop at once. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class FallbackTest extends GatewayTest {

    @Test
    void fallsBackWhenTheFirstBackendRefusesConnections() {
        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("refused-model", true));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("beta", response.headers().firstValue("x-gateway-provider").orElse(null));
        // "dead" is configured with 2 tries, both refused, then beta answered.
        assertEquals("3", response.headers().firstValue("x-gateway-attempts").orElse(null));
        assertEquals(1, beta().completionRequests().size());
        assertTrue(response.body().contains("data: [DONE]"));
    }

    @Test
    void retriesA503ExactlyTriesTimesThenFallsBack() {
        alpha().always(Behavior.status(503));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(2, alpha().completionRequests().size(), "alpha is configured with exactly 2 tries");
        assertEquals(1, beta().completionRequests().size());
        assertEquals(0, omega().completionRequests().size());
        assertEquals("beta", response.headers().firstValue("x-gateway-provider").orElse(null));
    }

    @Test
    void aSecondTryOnTheSameBackendCanSucceed() {
        alpha().then(Behavior.status(502), Behavior.stream(2));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", false));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("alpha", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals("2", response.headers().firstValue("x-gateway-attempts").orElse(null));
        assertEquals(0, beta().completionRequests().size());
    }

    @Test
    void fallsBackWhenTheFirstBackendStallsPastTheFirstTokenClock() {
        alpha().always(Behavior.stream(3).firstTokenDelay(60_000));

        long start = System.nanoTime();
        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(2, alpha().completionRequests().size());
        assertEquals(1, beta().completionRequests().size());
        assertTrue(elapsedMs >= 2 * FakeBackends.ALPHA_FIRST_TOKEN_MS, "both tries waited their clock: " + elapsedMs);
        assertTrue(response.body().contains("tok2"), response.body());
        assertTrue(response.body().contains(": provider=beta attempts=3"),
                "the head left early, so the provider is named in-band: " + response.body());
    }

    @Test
    void aBackend400IsRelayedAs400AndNoOtherBackendIsCalled() {
        alpha().then(Behavior.json(400, "{\"object\":\"error\",\"message\":\"'temperature' must be <= 2\","
                + "\"type\":\"BadRequestError\",\"param\":null,\"code\":400}"));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEquals(400, response.statusCode());
        JsonNode error = json(response.body()).get("error");
        assertEquals("'temperature' must be <= 2", error.get("message").asText());
        assertEquals("invalid_request_error", error.get("type").asText());
        assertTrue(error.has("param") && error.has("code"));
        assertEquals(1, alpha().completionRequests().size());
        assertEquals(0, beta().completionRequests().size());
        assertEquals(0, omega().completionRequests().size());
    }

    @Test
    void contextOverflowFromABackendIsRelayedAsContextLengthExceeded() {
        alpha().then(Behavior.json(400, "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens."
                + " However, you requested 9064 tokens (9000 in the messages, 64 in the completion).\","
                + "\"type\":\"BadRequestError\",\"param\":null,\"code\":400}}"));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", false));

        assertEquals(400, response.statusCode());
        assertEquals("context_length_exceeded", json(response.body()).at("/error/code").asText());
        assertEquals(0, beta().completionRequests().size());
    }

    @Test
    void theGlobalFallbackIsTriedLast() {
        alpha().always(Behavior.status(500));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("solo-model", false));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("omega", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals(FakeBackends.OMEGA_MODEL, json(omega().lastCompletion().body).get("model").asText());
    }

    @Test
    void whenEveryCandidateFailsTheStatusFitsTheLastFailureAndTheMessageNamesEachAttempt() {
        alpha().always(Behavior.status(500));
        omega().always(Behavior.status(503));

        HttpResponse<String> unavailable = gateway.post("/v1/chat/completions", chat("solo-model", false));

        assertEquals(503, unavailable.statusCode());
        assertTrue(unavailable.headers().firstValue("retry-after").isPresent());
        String message = json(unavailable.body()).at("/error/message").asText();
        assertTrue(message.contains("alpha try 1") && message.contains("alpha try 2") && message.contains("omega try 1"),
                message);
        assertFalse(message.contains("127.0.0.1"), "no backend address in client errors: " + message);
        assertEquals("upstream_unavailable", json(unavailable.body()).at("/error/code").asText());

        omega().always(Behavior.closeConnection());
        HttpResponse<String> badGateway = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals(502, badGateway.statusCode(), badGateway.body());

        omega().always(Behavior.hang());
        alpha().always(Behavior.hang());
        HttpResponse<String> timeout = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals(504, timeout.statusCode(), timeout.body());
        assertEquals("upstream_timeout", json(timeout.body()).at("/error/code").asText());
    }

    @Test
    void aBackendThatAnswersAStreamWithJsonIsMalformedAndSkipped() {
        alpha().always(Behavior.json(200, "{\"not\":\"a stream\"}"));

        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", true));

        assertEquals(200, response.statusCode());
        assertEquals("beta", response.headers().firstValue("x-gateway-provider").orElse(null));
    }
}

package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.large;
import static org.canonic.gateway.testing.FakeBackends.medium;
import static org.canonic.gateway.testing.FakeBackends.small;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Route "fit" has backends with 8K, 16K and 64K windows (learned from their /v1/models), in that order. The fakes'
 * /tokenize counts a token per 4 bytes of what it is sent.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class ContextFitEndToEndTest extends GatewayTest {

    /** A Kilo-Code-like turn of about {@code tokens} tokens (4 bytes each) with the given limit. */
    private static String turn(int tokens, int maxTokens, boolean stream) {
        String text = "const answer = compute(input); // refactor me\n".repeat(tokens * 4 / 46);
        return "{\"model\":\"fit-model\",\"stream\":" + stream + ",\"max_tokens\":" + maxTokens
                + ",\"messages\":[{\"role\":\"system\",\"content\":\"You are Kilo Code.\"},"
                + "{\"role\":\"user\",\"content\":" + quoted(text) + "}]}";
    }

    private static String quoted(String text) {
        try {
            return MAPPER.writeValueAsString(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void an11kPromptAskingFor32000TokensLandsOnTheWindowThatFitsWithAClampedLimit() {
        HttpResponse<String> response = gateway.post("/v1/chat/completions", turn(11_000, 32_000, true));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("medium", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals(0, small().completionRequests().size(), "8K cannot hold an 11K prompt");
        assertEquals(0, large().completionRequests().size());
        int counted = small().tokenizeRequests().isEmpty()
                ? -1 : Math.max(1, small().tokenizeRequests().get(0).body.length() / 4);
        JsonNode sent = json(medium().lastCompletion().body);
        int limit = sent.get("max_tokens").asInt();
        assertTrue(counted > 10_000, "the prompt was counted exactly near the window edge: " + counted);
        assertEquals(16384 - 64 - counted, limit, "clamped to what the 16K window leaves after prompt and margin");
        assertEquals(Integer.toString(limit), response.headers().firstValue("x-gateway-max-tokens").orElse(null));
    }

    @Test
    void aPromptThatFitsNowhereIs400ContextLengthExceededBeforeAnyCompletion() {
        HttpResponse<String> response = gateway.post("/v1/chat/completions", turn(70_000, 1000, false));

        assertEquals(400, response.statusCode(), response.body());
        JsonNode error = json(response.body()).get("error");
        assertEquals("context_length_exceeded", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("65536"), "names the largest window: " + error);
        assertTrue(error.get("message").asText().matches(".*\\b\\d{5} tokens.*"), "names the prompt size: " + error);
        assertEquals(0, small().completionRequests().size() + medium().completionRequests().size()
                + large().completionRequests().size());
    }

    @Test
    void aSmallPromptIsDecidedByTheEstimateAloneWithoutTokenizeCalls() {
        HttpResponse<String> response = gateway.post("/v1/chat/completions", turn(200, 1000, false));

        assertEquals(200, response.statusCode(), response.body());
        assertEquals("small", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals(1000, json(small().lastCompletion().body).get("max_tokens").asInt());
        assertEquals(0, small().tokenizeRequests().size() + medium().tokenizeRequests().size()
                + large().tokenizeRequests().size());
    }

    @Test
    void aRequestWithoutALimitGetsTheDefaultAndAnOversizedOneKeepsItsFieldAndFitsTheFirstWindow() {
        HttpResponse<String> defaulted = gateway.post("/v1/chat/completions",
                "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals("4096", defaulted.headers().firstValue("x-gateway-max-tokens").orElse(null));
        assertEquals(4096, json(alpha().lastCompletion().body).get("max_tokens").asInt());

        HttpResponse<String> clamped = gateway.post("/v1/chat/completions", "{\"model\":\"fit-model\","
                + "\"max_completion_tokens\":900000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, clamped.statusCode(), clamped.body());
        // The first window that holds the prompt is used, with the limit clamped to what it leaves.
        assertEquals("small", clamped.headers().firstValue("x-gateway-provider").orElse(null));
        JsonNode sent = json(small().lastCompletion().body);
        assertTrue(sent.has("max_completion_tokens") && !sent.has("max_tokens"), "the client's field is kept: " + sent);
        int counted = Math.max(1, small().tokenizeRequests().get(0).body.length() / 4);
        assertEquals(8192 - 64 - counted, sent.get("max_completion_tokens").asInt());
    }
}

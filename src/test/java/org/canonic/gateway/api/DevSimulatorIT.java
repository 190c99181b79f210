package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.testing.GatewayClient;
import org.canonic.gateway.testing.PackagedGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's run command: the packaged jar in the dev profile answers real OpenAI requests from its built-in
 * simulated vLLM backends, with no GPU and no configuration (port and state directory aside, so that the test can run
 * next to anything).
 */
class DevSimulatorIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static PackagedGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = PackagedGateway.start(Map.of(
                "QUARKUS_PROFILE", "dev",
                "GATEWAY_STATE_DIR", Files.createTempDirectory("dev-state").toString()));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (gateway != null) {
            gateway.terminate(30);
        }
    }

    @Test
    void aChatCompletionIsAnsweredBySimulatedQwen() throws Exception {
        gateway.awaitRoute("chat");
        HttpResponse<String> answer = gateway.client().post("/v1/chat/completions", GatewayClient.chat("qwen", false));
        assertEquals(200, answer.statusCode(), answer.body());
        JsonNode body = JSON.readTree(answer.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertFalse(body.at("/choices/0/message/content").asText().isBlank(), answer.body());
        assertTrue(body.at("/usage/completion_tokens").asInt() > 0, answer.body());
        assertEquals("simulator-qwen", answer.headers().firstValue("x-gateway-provider").orElse(""));
    }

    @Test
    void aStreamEndsWithDoneAfterContentAndUsageWhenAskedFor() throws Exception {
        gateway.awaitRoute("kilocode");
        String request = "{\"model\":\"deepseek-coder\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"write a loop\"}]}";
        HttpResponse<String> answer = gateway.client().post("/v1/chat/completions", request);
        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> data = GatewayClient.dataPayloads(answer.body());
        assertEquals("[DONE]", data.get(data.size() - 1), answer.body());
        StringBuilder text = new StringBuilder();
        boolean usage = false;
        for (String payload : data.subList(0, data.size() - 1)) {
            JsonNode chunk = JSON.readTree(payload);
            text.append(chunk.at("/choices/0/delta/content").asText(""));
            usage |= chunk.path("usage").path("completion_tokens").asInt() > 0;
        }
        assertFalse(text.toString().isBlank(), answer.body());
        assertTrue(usage, "the usage chunk the client asked for: " + answer.body());
    }

    @Test
    void theModelsListNamesTheDevRoutes() throws Exception {
        HttpResponse<String> models = gateway.client().get("/v1/models");
        assertEquals(200, models.statusCode(), models.body());
        assertTrue(models.body().contains("\"qwen\""), models.body());
        assertTrue(models.body().contains("\"deepseek-coder\""), models.body());
    }
}

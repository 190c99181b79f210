package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whatever a client asks, the answer is OpenAI-shaped JSON: unknown URLs, wrong methods, one model. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class OpenAiShapesTest extends GatewayTest {

    private static JsonNode error(HttpResponse<String> answer, int status) {
        assertEquals(status, answer.statusCode(), answer.body());
        assertTrue(answer.headers().firstValue("content-type").orElse("").startsWith("application/json"),
                answer.headers().toString());
        JsonNode error = json(answer.body()).get("error");
        assertTrue(error != null && error.has("message") && error.has("type") && error.has("param")
                && error.has("code"), answer.body());
        return error;
    }

    @Test
    void unknownUrlsAreJson404() {
        for (String path : List.of("/", "/v1/embeddings", "/v1/nothing", "/v1", "/q/health", "/index.html")) {
            JsonNode error = error(gateway.get(path), 404);
            assertEquals("invalid_request_error", error.get("type").asText(), path);
            assertEquals("unknown_url", error.get("code").asText(), path);
            assertTrue(error.get("param").isNull());
        }
        JsonNode post = error(gateway.post("/v1/embeddings", "{\"model\":\"main-model\",\"input\":\"x\"}"), 404);
        assertTrue(post.get("message").asText().contains("POST /v1/embeddings"), post.toString());
    }

    @Test
    void wrongMethodsAreJson405() {
        for (String method : List.of("DELETE", "PUT", "POST")) {
            JsonNode error = error(gateway.call(method, "/v1/models", method.equals("DELETE") ? null : "{}"), 405);
            assertEquals("method_not_allowed", error.get("code").asText(), method);
        }
        assertEquals("method_not_allowed", error(gateway.get("/v1/chat/completions"), 405).get("code").asText());
        assertEquals("method_not_allowed", error(gateway.call("DELETE", "/health", null), 405).get("code").asText());
    }

    @Test
    void oneModelIsTheModelObjectOr404ModelNotFound() {
        HttpResponse<String> found = gateway.get("/v1/models/main-model");
        assertEquals(200, found.statusCode(), found.body());
        JsonNode model = json(found.body());
        assertEquals("main-model", model.get("id").asText());
        assertEquals("model", model.get("object").asText());
        assertTrue(model.has("created") && model.has("owned_by"), found.body());
        assertEquals("main", model.get("route").asText());

        JsonNode missing = error(gateway.get("/v1/models/no-such-model"), 404);
        assertEquals("model_not_found", missing.get("code").asText());
        assertEquals("model", missing.get("param").asText());
        assertEquals("invalid_request_error", missing.get("type").asText());
    }

    @Test
    void withoutConfiguredOriginsThereAreNoCorsHeaders() {
        HttpResponse<String> preflight = CorsTest.preflight(gateway, "/v1/chat/completions", "https://chat.example.com");
        assertTrue(preflight.headers().map().keySet().stream().noneMatch(h -> h.startsWith("access-control-")),
                preflight.headers().toString());
        HttpResponse<String> get = gateway.get("/v1/models", "origin", "https://chat.example.com");
        assertEquals(200, get.statusCode());
        assertTrue(get.headers().map().keySet().stream().noneMatch(h -> h.startsWith("access-control-")));
    }

    @Test
    void everyAnswerCarriesARequestId() {
        String admin = "Bearer " + FakeBackends.ADMIN_TOKEN;
        List<HttpResponse<String>> answers = List.of(gateway.get("/v1/models"), gateway.get("/v1/models/main-model"),
                gateway.get("/v1/models/nope"), gateway.get("/health"), gateway.get("/health/main"),
                gateway.get("/health/nope"), gateway.get("/admin/backends"),
                gateway.get("/admin/backends", "authorization", admin), gateway.get("/admin/nothing"),
                gateway.get("/v1/nothing"), gateway.call("DELETE", "/v1/models", null),
                gateway.get("/v1/chat/completions"), gateway.post("/v1/chat/completions", "{}"),
                gateway.post("/v1/chat/completions", org.canonic.gateway.testing.GatewayClient.chat("main-model", false)));
        for (HttpResponse<String> answer : answers) {
            String id = answer.headers().firstValue("x-request-id").orElse("");
            assertTrue(id.matches("[0-9a-f]{32}"), answer.request().method() + " " + answer.uri() + " -> "
                    + answer.statusCode() + " has no request id: " + answer.headers());
        }
        assertEquals("trace-42", gateway.get("/health", "x-request-id", "trace-42").headers()
                .firstValue("x-request-id").orElse(null), "a client's sane id is kept");
    }

    @Test
    void aFailedAttemptIsOneWarnLineWithRequestBackendAndOutcomeOnly() {
        org.canonic.gateway.testing.FakeBackends.alpha().always(org.canonic.gateway.testing.Behavior.status(500));
        try (org.canonic.gateway.testing.LogCapture logs = org.canonic.gateway.testing.LogCapture.start()) {
            HttpResponse<String> answer = gateway.post("/v1/chat/completions",
                    org.canonic.gateway.testing.GatewayClient.chat("solo-model", false), "x-request-id", "warn-1");
            assertEquals(200, answer.statusCode(), answer.body());
            List<String> warnings = logs.records().stream()
                    .filter(r -> r.getLevel().intValue() == java.util.logging.Level.WARNING.intValue())
                    .map(r -> r.getMessage() + " " + (r.getParameters() == null ? "" : List.of(r.getParameters())))
                    .filter(m -> m.contains("warn-1"))
                    .toList();
            assertEquals(2, warnings.size(), "one per failed try on alpha: " + logs.text());
            for (String warning : warnings) {
                assertTrue(warning.contains("alpha") && warning.contains("backend_error_status"), warning);
                assertTrue(!warning.contains(FakeBackends.ALPHA_KEY) && !warning.contains("/v1"), warning);
            }
        }
    }
}

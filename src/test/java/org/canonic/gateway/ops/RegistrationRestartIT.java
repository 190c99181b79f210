package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.PackagedGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar, restarted: a backend registered through the admin API is still there afterwards (kept in the
 * state directory), and one whose key reference can no longer be read stops the start with a clear message.
 */
class RegistrationRestartIT {

    private static final String ADMIN = "restart-it-admin-token-0123456789abcdef";
    private static final String MODEL = "fake/restart-model";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static Vertx vertx;
    private static FakeVllm fake;

    @BeforeAll
    static void fake() {
        vertx = Vertx.vertx();
        fake = FakeVllm.start(vertx, MODEL);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    @Test
    void aRegistrationSurvivesARestartAndAMissingKeyReferenceStopsTheStart() throws Exception {
        assertTrue(Files.exists(PackagedGateway.JAR), "package the gateway first");
        Path state = Files.createTempDirectory("restart-it-state");
        Map<String, String> env = new HashMap<>(Map.of("GATEWAY_STATE_DIR", state.toString(), "GATEWAY_AUTH", "none",
                "GATEWAY_ADMIN_TOKEN", ADMIN, "GATEWAY_ADMIN_ALLOWED_NETWORKS", "127.0.0.0/8",
                "BACKEND_KEY_RESTART_IT", "sk-restart-upstream-key-42"));

        PackagedGateway first = PackagedGateway.start(env);
        try {
            // No backend configured at all: the routes are listed and wait, saying why.
            HttpResponse<String> waiting = first.client().post("/v1/chat/completions", chat("qwen", false));
            assertEquals(503, waiting.statusCode(), waiting.body());
            assertTrue(waiting.headers().firstValue("retry-after").isPresent());
            assertTrue(waiting.body().contains("has no backend configured or registered"), waiting.body());
            // Ready all the same: the process answers (those JSON 503s); the route's state is in the data.
            HttpResponse<String> ready = first.management().get("/q/health/ready");
            assertEquals(200, ready.statusCode(), ready.body());
            assertTrue(ready.body().contains("WAITING"), ready.body());
            assertTrue(first.client().get("/v1/models").body().contains("\"qwen\""), "routes are listed");

            HttpResponse<String> created = first.client().call("POST", "/admin/backends", "{\"name\":\"restart-gamma\","
                    + "\"base_url\":\"" + fake.baseUrl() + "\",\"model\":\"" + MODEL + "\",\"routes\":[\"chat\"],"
                    + "\"api_key_env\":\"BACKEND_KEY_RESTART_IT\"}", "authorization", "Bearer " + ADMIN);
            assertEquals(201, created.statusCode(), created.body());
            first.awaitRoute("chat");
            assertEquals("restart-gamma", first.client().post("/v1/chat/completions", chat("qwen", false)).headers()
                    .firstValue("x-gateway-provider").orElse(null));
        } finally {
            first.terminate(40);
        }

        PackagedGateway second = PackagedGateway.start(env);
        try {
            second.awaitRoute("chat");
            HttpResponse<String> answer = second.client().post("/v1/chat/completions", chat("qwen", false));
            assertEquals(200, answer.statusCode(), answer.body());
            assertEquals("restart-gamma", answer.headers().firstValue("x-gateway-provider").orElse(null));
            assertEquals("Bearer sk-restart-upstream-key-42", fake.lastCompletion().headers.get("authorization"));
            String view = second.client().get("/admin/backends/restart-gamma", "authorization", "Bearer " + ADMIN).body();
            assertEquals("registered", MAPPER.readTree(view).get("source").asText(), view);
        } finally {
            second.terminate(40);
        }

        env.remove("BACKEND_KEY_RESTART_IT");
        Process refused = PackagedGateway.launch(env);
        assertTrue(refused.waitFor(60, TimeUnit.SECONDS), "a start that cannot read a key must end");
        String output = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, refused.exitValue(), output);
        assertTrue(output.contains("registered backend restart-gamma") && output.contains("BACKEND_KEY_RESTART_IT")
                && output.contains("not set"), output);
        assertTrue(!output.contains("sk-restart-upstream-key-42"), "the key is never printed");
    }

}

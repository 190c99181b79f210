package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
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

    private static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
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
        assertTrue(Files.exists(JAR), "package the gateway first");
        Path state = Files.createTempDirectory("restart-it-state");
        Map<String, String> env = new HashMap<>(Map.of("GATEWAY_STATE_DIR", state.toString(), "GATEWAY_AUTH", "none",
                "GATEWAY_ADMIN_TOKEN", ADMIN, "RESTART_IT_UPSTREAM_KEY", "sk-restart-upstream-key-42"));

        Gateway first = Gateway.start(env);
        try {
            HttpResponse<String> created = first.client.call("POST", "/admin/backends", "{\"name\":\"restart-gamma\","
                    + "\"base_url\":\"" + fake.baseUrl() + "\",\"model\":\"" + MODEL + "\",\"routes\":[\"chat\"],"
                    + "\"api_key_env\":\"RESTART_IT_UPSTREAM_KEY\"}", "authorization", "Bearer " + ADMIN);
            assertEquals(201, created.statusCode(), created.body());
            first.awaitRoute("chat");
            assertEquals("restart-gamma", first.client.post("/v1/chat/completions", chat("qwen", false)).headers()
                    .firstValue("x-gateway-provider").orElse(null));
        } finally {
            first.stop();
        }

        Gateway second = Gateway.start(env);
        try {
            second.awaitRoute("chat");
            HttpResponse<String> answer = second.client.post("/v1/chat/completions", chat("qwen", false));
            assertEquals(200, answer.statusCode(), answer.body());
            assertEquals("restart-gamma", answer.headers().firstValue("x-gateway-provider").orElse(null));
            assertEquals("Bearer sk-restart-upstream-key-42", fake.lastCompletion().headers.get("authorization"));
            String view = second.client.get("/admin/backends/restart-gamma", "authorization", "Bearer " + ADMIN).body();
            assertEquals("registered", MAPPER.readTree(view).get("source").asText(), view);
        } finally {
            second.stop();
        }

        env.remove("RESTART_IT_UPSTREAM_KEY");
        Process refused = Gateway.launch(env);
        assertTrue(refused.waitFor(60, TimeUnit.SECONDS), "a start that cannot read a key must end");
        String output = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, refused.exitValue(), output);
        assertTrue(output.contains("registered backend restart-gamma") && output.contains("RESTART_IT_UPSTREAM_KEY")
                && output.contains("not set"), output);
        assertTrue(!output.contains("sk-restart-upstream-key-42"), "the key is never printed");
    }

    /** The packaged jar in the production profile, on a free port. */
    private record Gateway(Process process, GatewayClient client) {

        static Process launch(Map<String, String> env) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-jar", JAR.toString()).redirectErrorStream(true);
            builder.environment().keySet().removeIf(name -> name.startsWith("RUNPOD_") || name.startsWith("VASTAI_")
                    || name.startsWith("GATEWAY_") || name.equals("FALLBACK_PROVIDER") || name.startsWith("QUARKUS_"));
            builder.environment().putAll(env);
            return builder.start();
        }

        static Gateway start(Map<String, String> env) throws Exception {
            int port = freePort();
            Map<String, String> withPort = new HashMap<>(env);
            withPort.put("QUARKUS_HTTP_PORT", Integer.toString(port));
            Process process = launch(withPort);
            // Drain the output so the process never blocks on a full pipe.
            new Thread(() -> {
                try {
                    process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // the process ended
                }
            }).start();
            GatewayClient client = new GatewayClient(URI.create("http://127.0.0.1:" + port + "/"));
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (true) {
                try {
                    if (client.get("/q/health/live").statusCode() == 200) {
                        return new Gateway(process, client);
                    }
                } catch (AssertionError notYet) {
                    // not listening yet
                }
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("the gateway did not start");
                }
                Thread.sleep(100);
            }
        }

        void awaitRoute(String route) throws InterruptedException {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (client.get("/health/" + route).statusCode() != 200) {
                assertTrue(System.nanoTime() < deadline, "route " + route + " never served: "
                        + client.get("/health").body());
                Thread.sleep(100);
            }
        }

        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.AdminView.state;
import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.canonic.gateway.testing.GatewayClient.dataPayloads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backends registered, changed, drained and deregistered through the admin API while the gateway serves. */
@QuarkusTest
class BackendRegistryTest extends GatewayTest {

    private static final String MODEL = "fake/gamma-model";
    private final List<FakeVllm> extras = new ArrayList<>();
    private AdminView admin;

    @org.junit.jupiter.api.BeforeEach
    void view() {
        admin = new AdminView(gateway);
    }

    @AfterEach
    void closeExtras() {
        extras.forEach(FakeVllm::close);
    }

    private FakeVllm extra() {
        FakeVllm fake = FakeBackends.extra(MODEL);
        extras.add(fake);
        return fake;
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
    }

    private HttpResponse<String> register(String name, FakeVllm fake, String routes, String extra) {
        return admin("POST", "/admin/backends", "{\"name\":\"" + name + "\",\"base_url\":\"" + fake.baseUrl()
                + "\",\"model\":\"" + MODEL + "\",\"routes\":" + routes + extra + "}");
    }

    private static void assertDone(String body) {
        List<String> data = dataPayloads(body);
        assertEquals("[DONE]", data.get(data.size() - 1), body);
        assertFalse(body.contains("\"error\""), body);
    }

    @Test
    void aBackendRegisteredWhileStreamsRunServesOnceItsProbesPass() throws Exception {
        alpha().always(Behavior.stream(20).tokenDelay(50));
        CompletableFuture<HttpResponse<String>> running = gateway.postAsync("/v1/chat/completions",
                chat("main-model", true));
        alpha().awaitCompletion(java.time.Duration.ofSeconds(5));

        FakeVllm gamma = extra();
        String name = unique("gamma");
        HttpResponse<String> created = register(name, gamma, "[{\"route\":\"main\",\"position\":0}]", "");
        assertEquals(201, created.statusCode(), created.body());
        JsonNode view = json(created.body());
        assertEquals("registered", view.get("source").asText());
        assertTrue(List.of("PENDING", "UP").contains(view.get("state").asText()), view.toString());
        assertEquals("main", view.at("/routes/0").asText());

        admin.await(name, state("UP"), 5000);
        HttpResponse<String> served = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals(200, served.statusCode(), served.body());
        assertEquals(name, served.headers().firstValue("x-gateway-provider").orElse(null), "first in route order");
        assertEquals(MODEL, json(gamma.lastCompletion().body).get("model").asText());

        HttpResponse<String> stream = running.get(10, TimeUnit.SECONDS);
        assertEquals("alpha", stream.headers().firstValue("x-gateway-provider").orElse(null));
        assertDone(stream.body());
        assertTrue(stream.body().contains("tok19"), "the stream on another backend was not cut");

        assertEquals(202, admin("DELETE", "/admin/backends/" + name, null).statusCode());
    }

    @Test
    void aDeregisteredBackendLetsItsStreamFinishAndThenLeavesNoTrace() throws Exception {
        FakeVllm gamma = extra();
        String name = unique("gamma");
        assertEquals(201, register(name, gamma, "[\"solo\"]", "").statusCode());
        admin.await(name, state("UP"), 5000);
        alpha().healthStatus(503);
        admin.await("alpha", state("DOWN"), 5000);

        gamma.always(Behavior.stream(20).tokenDelay(50));
        CompletableFuture<HttpResponse<String>> running = gateway.postAsync("/v1/chat/completions",
                chat("solo-model", true));
        gamma.awaitCompletion(java.time.Duration.ofSeconds(5));

        HttpResponse<String> leaving = admin("DELETE", "/admin/backends/" + name, null);
        assertEquals(202, leaving.statusCode(), leaving.body());
        assertEquals("DRAINING", json(leaving.body()).get("drain").asText());
        assertTrue(json(leaving.body()).get("routes").isEmpty(), "out of every route at once");

        HttpResponse<String> refused = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals(1, gamma.completionRequests().size(), "nothing new reaches a leaving backend");
        assertTrue(refused.statusCode() != 200 || !name.equals(refused.headers().firstValue("x-gateway-provider")
                .orElse("")), refused.body());

        HttpResponse<String> stream = running.get(10, TimeUnit.SECONDS);
        assertEquals(200, stream.statusCode());
        assertDone(stream.body());
        assertTrue(stream.body().contains("tok19"), stream.body());

        long deadline = System.nanoTime() + 5_000_000_000L;
        while (admin("GET", "/admin/backends/" + name, null).statusCode() != 404) {
            assertTrue(System.nanoTime() < deadline, "the drained backend was never closed");
            Thread.sleep(20);
        }
        String metrics = management.get("/q/metrics").body();
        assertFalse(metrics.contains("backend=\"" + name + "\""), "its meters are gone");
        int probesAfterClose = gamma.allRequests().size();
        Thread.sleep(800);
        assertEquals(probesAfterClose, gamma.allRequests().size(), "its probes stopped");
    }

    @Test
    void drainStopsNewRequestsLetsTheRunningOneFinishAndReportsDrained() throws Exception {
        FakeVllm gamma = extra();
        String name = unique("gamma");
        assertEquals(201, register(name, gamma, "[{\"route\":\"main\",\"position\":0}]", "").statusCode());
        admin.await(name, state("UP"), 5000);
        gamma.always(Behavior.stream(15).tokenDelay(50));
        CompletableFuture<HttpResponse<String>> running = gateway.postAsync("/v1/chat/completions",
                chat("main-model", true));
        gamma.awaitCompletion(java.time.Duration.ofSeconds(5));

        HttpResponse<String> draining = admin("POST", "/admin/backends/" + name + "/drain", null);
        assertEquals(202, draining.statusCode(), draining.body());
        assertEquals("DRAINING", json(draining.body()).get("drain").asText());
        HttpResponse<String> next = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals("alpha", next.headers().firstValue("x-gateway-provider").orElse(null), next.body());

        assertDone(running.get(10, TimeUnit.SECONDS).body());
        admin.await(name, backend -> "DRAINED".equals(backend.get("drain").asText()), 3000);

        assertEquals(200, admin("POST", "/admin/backends/" + name + "/undrain", null).statusCode());
        gamma.always(Behavior.stream(2));
        HttpResponse<String> back = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals(name, back.headers().firstValue("x-gateway-provider").orElse(null), back.body());
        admin("DELETE", "/admin/backends/" + name, null);
    }

    @Test
    void theDrainDeadlineEndsAStragglerWithAnErrorEventAndDone() throws Exception {
        FakeVllm gamma = extra();
        String name = unique("gamma");
        assertEquals(201, register(name, gamma, "[{\"route\":\"main\",\"position\":0}]", "").statusCode());
        admin.await(name, state("UP"), 5000);
        gamma.always(Behavior.stream(200).tokenDelay(50));
        CompletableFuture<HttpResponse<String>> running = gateway.postAsync("/v1/chat/completions",
                chat("main-model", true));
        gamma.awaitCompletion(java.time.Duration.ofSeconds(5));
        Thread.sleep(200);

        long start = System.nanoTime();
        assertEquals(202, admin("POST", "/admin/backends/" + name + "/drain", "{\"deadline_seconds\":1}")
                .statusCode());
        HttpResponse<String> stream = running.get(10, TimeUnit.SECONDS);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMs < 4000, "ended at the deadline, not by the stream: " + tookMs + " ms");
        List<String> data = dataPayloads(stream.body());
        assertEquals("[DONE]", data.get(data.size() - 1));
        assertEquals("backend_withdrawn", json(data.get(data.size() - 2)).at("/error/code").asText(), stream.body());
        assertTrue(gamma.lastCompletion().closedEarly.get(2, TimeUnit.SECONDS) > 0, "the upstream was closed");
        admin.await(name, backend -> "DRAINED".equals(backend.get("drain").asText()), 3000);
        admin("DELETE", "/admin/backends/" + name, null);
    }

    @Test
    void aChangeAppliesToNewRequestsAndAKeyIsOnlyEverAReference() throws Exception {
        FakeVllm gamma = extra();
        String name = unique("gamma");
        Path keyFile = Files.createTempFile(FakeBackends.secretsDir(), "gamma-key", ".txt");
        String key = "sk-gamma-" + UUID.randomUUID();
        Files.writeString(keyFile, key + "\n");
        HttpResponse<String> created = register(name, gamma, "[\"solo\"]",
                ",\"api_key_file\":\"" + keyFile + "\",\"max_concurrency\":3");
        assertEquals(201, created.statusCode(), created.body());
        assertEquals("file:" + keyFile, json(created.body()).get("apiKey").asText());
        assertEquals(3, json(created.body()).get("maxConcurrency").asInt());
        admin.await(name, state("UP"), 5000);
        assertEquals("Bearer " + key, gamma.allRequests().stream().filter(r -> r.path.equals("/v1/models"))
                .findFirst().orElseThrow().headers.get("authorization"), "probes send the key");

        HttpResponse<String> changed = admin("PATCH", "/admin/backends/" + name,
                "{\"max_concurrency\":7,\"routes\":[{\"route\":\"main\",\"position\":0}],\"clocks\":{\"idle_ms\":900}}");
        assertEquals(200, changed.statusCode(), changed.body());
        assertEquals(7, json(changed.body()).get("maxConcurrency").asInt());
        assertEquals("main", json(changed.body()).at("/routes/0").asText());
        assertEquals(1, json(changed.body()).get("routes").size(), "moved from solo to main");

        HttpResponse<String> served = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals(name, served.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals("Bearer " + key, gamma.lastCompletion().headers.get("authorization"));

        String all = admin("GET", "/admin/backends", null).body();
        assertFalse(all.contains(key), "no key in the admin view");
        Path stateFile = FakeBackends.ledger().getParent().resolve("state").resolve("backends.json");
        String stored = Files.readString(stateFile);
        assertTrue(stored.contains(name) && stored.contains(keyFile.toString()), stored);
        assertFalse(stored.contains(key), "no key in the state directory");
        admin("DELETE", "/admin/backends/" + name, null);
    }

    @Test
    void badAdminInputIsRefusedClearlyAndChangesNothing() throws Exception {
        FakeVllm gamma = extra();
        String before = summary();
        String stateBefore = stateFile();

        assertRefused(admin("POST", "/admin/backends", "{\"name\":\"x1\",\"base_url\":\"ftp://nope\",\"model\":\"m\","
                + "\"routes\":[\"main\"]}"), 400, "base_url is malformed: it must start with http");
        assertRefused(admin("POST", "/admin/backends", "{\"name\":\"alpha\",\"base_url\":\"" + gamma.baseUrl()
                + "\",\"model\":\"m\",\"routes\":[\"main\"]}"), 409, "already exists");
        assertRefused(admin("POST", "/admin/backends", "{\"name\":\"x2\",\"base_url\":\"" + gamma.baseUrl()
                + "\",\"model\":\"m\",\"routes\":[\"nowhere\"]}"), 400, "'nowhere', which is not a route");
        assertRefused(admin("POST", "/admin/backends", "{\"name\":\"x3\",\"base_url\":\"" + gamma.baseUrl()
                + "\",\"model\":\"m\",\"routes\":[\"main\"],\"api_key\":\"sk-live\"}"), 400, "api_key_env or api_key_file");
        assertRefused(admin("POST", "/admin/backends", "{\"name\":\"x4\",\"base_url\":\"" + gamma.baseUrl()
                + "\",\"model\":\"m\",\"routes\":[\"main\"],\"api_key_env\":\"BACKEND_KEY_NOT_SET_ANYWHERE_42\"}"), 400,
                "BACKEND_KEY_NOT_SET_ANYWHERE_42, which is not set");
        assertRefused(admin("POST", "/admin/backends", "{\"name\":\"x5\",\"base_url\":\"" + gamma.baseUrl()
                + "\",\"model\":\"m\",\"routes\":[\"main\"],\"tries\":0,\"clocks\":{\"idle_ms\":0}}"), 400,
                "tries must be between 1 and 10");
        assertRefused(admin("POST", "/admin/backends", "{not json"), 400, "not valid JSON");
        assertRefused(admin("POST", "/admin/backends", "{\"name\":\"Bad Name\",\"base_url\":\"" + gamma.baseUrl()
                + "\",\"model\":\"m\",\"routes\":[\"main\"]}"), 400, "name must be");
        assertRefused(admin("PATCH", "/admin/backends/nobody", "{\"tries\":2}"), 404, "No backend is named");
        assertRefused(admin("PATCH", "/admin/backends/alpha", "{\"tries\":2}"), 409, "comes from configuration");
        assertRefused(admin("DELETE", "/admin/backends/nobody", null), 404, "No backend is named");
        assertRefused(admin("POST", "/admin/backends/alpha/drain", "{\"deadline_seconds\":0}"), 400,
                "deadline_seconds must be between");
        assertRefused(admin("POST", "/admin/backends/alpha/undrain", null), 409, "not draining");
        HttpResponse<String> wrongToken = gateway.call("POST", "/admin/backends", "{}", "authorization",
                "Bearer wrong-token");
        assertEquals(401, wrongToken.statusCode());

        assertEquals(before, summary(), "no backend, route, limit or drain changed");
        assertEquals(stateBefore, stateFile(), "the state directory is unchanged");
    }

    /** Names, routes, limits and drain of every backend: what a refused change must leave as it was. */
    private String summary() {
        StringBuilder summary = new StringBuilder();
        for (JsonNode backend : json(admin("GET", "/admin/backends", null).body()).get("backends")) {
            summary.append(backend.get("name").asText()).append(backend.get("routes")).append(' ')
                    .append(backend.get("maxConcurrency").asInt()).append(backend.get("drain").asText()).append('\n');
        }
        return summary.toString();
    }

    private static String stateFile() throws Exception {
        Path file = FakeBackends.ledger().getParent().resolve("state").resolve("backends.json");
        return Files.exists(file) ? Files.readString(file) : "";
    }

    private static void assertRefused(HttpResponse<String> response, int status, String message) {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode error = json(response.body()).get("error");
        assertTrue(error != null && error.get("message").asText().contains(message), response.body());
        assertTrue(error.has("type") && error.has("param") && error.has("code"), response.body());
    }
}

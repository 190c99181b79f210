package org.canonic.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.http.HttpResponse;
import java.util.function.Predicate;

/** Reads the gateway's admin view of backends, and waits for a backend to reach a condition. */
public final class AdminView {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final GatewayClient gateway;

    public AdminView(GatewayClient gateway) {
        this.gateway = gateway;
    }

    public JsonNode backend(String name) {
        HttpResponse<String> response = gateway.get("/admin/backends", "authorization",
                "Bearer " + FakeBackends.ADMIN_TOKEN);
        if (response.statusCode() != 200) {
            throw new AssertionError("admin view answered " + response.statusCode() + ": " + response.body());
        }
        try {
            for (JsonNode backend : MAPPER.readTree(response.body()).get("backends")) {
                if (name.equals(backend.get("name").asText())) {
                    return backend;
                }
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("no backend " + name + " in " + response.body());
    }

    /** Polls the admin view until the backend matches, or fails after the timeout. */
    public JsonNode await(String name, Predicate<JsonNode> condition, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        JsonNode last = backend(name);
        while (!condition.test(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("backend " + name + " did not reach the expected state: " + last);
            }
            Thread.sleep(20);
            last = backend(name);
        }
        return last;
    }

    public static Predicate<JsonNode> state(String state) {
        return backend -> state.equals(backend.get("state").asText());
    }

    public static Predicate<JsonNode> breaker(String state) {
        return backend -> state.equals(backend.get("breaker").asText());
    }
}

package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.UUID;

import static org.canonic.gateway.testing.AdminView.state;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A change and its audit line are one step: with the audit log unwritable, every admin change answers 503
 * {@code audit_unavailable} and has not happened (the backend still serves, the registry is as it was).
 */
@QuarkusTest
class AuditedChangeTest extends GatewayTest {

    private static final String MODEL = "fake/epsilon-model";

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
    }

    private static Path auditFile() {
        return FakeBackends.ledger().getParent().resolve("state").resolve("audit.jsonl");
    }

    private static void assertRefused(HttpResponse<String> response, String what) {
        assertEquals(503, response.statusCode(), what + ": " + response.body());
        JsonNode error = json(response.body()).get("error");
        assertEquals("audit_unavailable", error.get("code").asText(), what + ": " + response.body());
        assertTrue(error.has("message") && error.has("type") && error.has("param"), response.body());
    }

    @Test
    void withTheAuditLogUnwritableNoAdminChangeHappens() throws Exception {
        FakeVllm epsilon = FakeBackends.extra(MODEL);
        String name = "epsilon-" + UUID.randomUUID().toString().substring(0, 8);
        String other = name + "-b";
        Path audit = auditFile();
        Path saved = audit.resolveSibling("audit.jsonl.saved-" + name);
        AdminView view = new AdminView(gateway);
        try {
            assertEquals(201, admin("POST", "/admin/backends", "{\"name\":\"" + name + "\",\"base_url\":\""
                    + epsilon.baseUrl() + "\",\"model\":\"" + MODEL + "\",\"routes\":[\"main\"],\"max_concurrency\":5}")
                    .statusCode());
            view.await(name, state("UP"), 5000);
            JsonNode registered = view.backend(name);
            long linesBefore = Files.readAllLines(audit).size();

            // A directory where the file should be: no line can be written (as with a full state directory).
            Files.move(audit, saved, StandardCopyOption.ATOMIC_MOVE);
            Files.createDirectory(audit);

            assertRefused(admin("POST", "/admin/backends/alpha/drain", null), "drain");
            assertEquals("NONE", view.backend("alpha").get("drain").asText(), "alpha was not drained");
            assertEquals(200, gateway.post("/v1/chat/completions", chat("solo-model", false)).statusCode(),
                    "alpha alone serves solo: traffic unchanged");

            assertRefused(admin("POST", "/admin/backends", "{\"name\":\"" + other + "\",\"base_url\":\""
                    + epsilon.baseUrl() + "\",\"model\":\"" + MODEL + "\",\"routes\":[\"main\"]}"), "register");
            assertEquals(404, admin("GET", "/admin/backends/" + other, null).statusCode(), "nothing registered");

            assertRefused(admin("PATCH", "/admin/backends/" + name, "{\"max_concurrency\":3}"), "change");
            assertEquals(5, registered.get("maxConcurrency").asInt());
            assertEquals(5, view.backend(name).get("maxConcurrency").asInt(), "the registration is as it was");

            assertRefused(admin("DELETE", "/admin/backends/" + name, null), "deregister");
            assertEquals("UP", view.backend(name).get("state").asText());
            assertEquals("NONE", view.backend(name).get("drain").asText(), "still registered and serving");

            Files.delete(audit);
            Files.move(saved, audit, StandardCopyOption.ATOMIC_MOVE);
            assertEquals(linesBefore, Files.readAllLines(audit).size(), "no line for changes that did not happen");

            // Writable again: the same changes go through, each with its one line.
            assertEquals(202, admin("POST", "/admin/backends/alpha/drain", null).statusCode());
            assertEquals(200, admin("POST", "/admin/backends/alpha/undrain", null).statusCode());
            List<String> lines = Files.readAllLines(audit);
            assertEquals(linesBefore + 2, lines.size());
            assertEquals("backend.undrain", json(lines.get(lines.size() - 1)).get("action").asText());
            assertEquals("ok", json(lines.get(lines.size() - 1)).get("result").asText());
        } finally {
            if (Files.isDirectory(audit)) {
                Files.delete(audit);
            }
            if (Files.exists(saved)) {
                Files.move(saved, audit, StandardCopyOption.REPLACE_EXISTING);
            }
            admin("POST", "/admin/backends/alpha/undrain", null);
            admin("DELETE", "/admin/backends/" + name, null);
            admin("DELETE", "/admin/backends/" + other, null);
            epsilon.close();
        }
    }
}

package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.coordination.WebhookReceiver;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.canonic.gateway.testing.AdminView.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registry changes under the maintenance lock: 423 without its token, audited, announced by signed webhooks. */
@QuarkusTest
class RegistryCoordinationTest extends GatewayTest {

    private static final String MODEL = "fake/delta-model";

    private HttpResponse<String> admin(String method, String path, String body, String... more) {
        String[] headers = new String[more.length + 2];
        headers[0] = "authorization";
        headers[1] = "Bearer " + FakeBackends.ADMIN_TOKEN;
        System.arraycopy(more, 0, headers, 2, more.length);
        return gateway.call(method, path, body, headers);
    }

    @Test
    void whileTheLockIsHeldOnlyItsHolderChangesTheRegistryAndEveryStepIsAuditedAndAnnounced() throws Exception {
        FakeVllm delta = FakeBackends.extra(MODEL);
        String name = "delta-" + UUID.randomUUID().toString().substring(0, 8);
        String registration = "{\"name\":\"" + name + "\",\"base_url\":\"" + delta.baseUrl() + "\",\"model\":\""
                + MODEL + "\",\"routes\":[\"main\"]}";
        admin("DELETE", "/admin/lock?force=true", null);
        try {
            HttpResponse<String> acquired = admin("POST", "/admin/lock",
                    "{\"holder\":\"swap-bot\",\"reason\":\"model swap\",\"ttl_seconds\":60}");
            assertEquals(201, acquired.statusCode(), acquired.body());
            String token = json(acquired.body()).get("token").asText();
            long fencing = json(acquired.body()).get("fencing").asLong();

            HttpResponse<String> locked = admin("POST", "/admin/backends", registration);
            assertEquals(423, locked.statusCode(), locked.body());
            assertTrue(locked.headers().firstValue("retry-after").isPresent());
            assertTrue(json(locked.body()).at("/error/message").asText().contains("swap-bot"), locked.body());
            assertEquals(404, admin("GET", "/admin/backends/" + name, null).statusCode(), "nothing registered");
            assertEquals(423, admin("POST", "/admin/backends/alpha/drain", null).statusCode());

            HttpResponse<String> view = admin("GET", "/admin/backends", null);
            assertEquals("swap-bot", json(view.body()).at("/maintenance/holder").asText(), "maintenance is shown");
            assertTrue(json(gateway.get("/health").body()).get("maintenance").asBoolean(), "and in the summary");

            HttpResponse<String> created = admin("POST", "/admin/backends", registration,
                    "X-Gateway-Lock-Token", token, "X-Gateway-Actor", "swap-bot");
            assertEquals(201, created.statusCode(), created.body());
            new AdminView(gateway).await(name, state("UP"), 5000);
            assertEquals(202, admin("DELETE", "/admin/backends/" + name, null, "X-Gateway-Lock-Token", token)
                    .statusCode());
            assertEquals(200, admin("DELETE", "/admin/lock", null, "X-Gateway-Lock-Token", token).statusCode());

            List<JsonNode> audit = auditLines(name);
            assertEquals(List.of("backend.register:maintenance_locked", "backend.register:ok",
                    "backend.deregister:ok"), audit.stream().map(line -> line.get("action").asText() + ":"
                    + line.get("result").asText()).toList(), audit.toString());
            assertEquals("swap-bot", audit.get(1).get("caller").asText());
            assertEquals(fencing, audit.get(1).get("lock").asLong(), "the fencing number of the token used");
            assertTrue(audit.get(1).get("before").isNull() && audit.get(1).get("after").get("name").asText()
                    .equals(name), audit.get(1).toString());
            assertFalse(Files.readString(auditFile()).contains(token), "the token is never written down");

            WebhookReceiver hooks = FakeBackends.webhooks();
            List<String> expected = List.of("backend.registered", "backend.state_changed", "backend.deregistered",
                    "backend.drain_started", "backend.drain_finished");
            long deadline = System.nanoTime() + 5_000_000_000L;
            List<WebhookReceiver.Delivery> mine;
            do {
                Thread.sleep(50);
                mine = hooks.deliveries().stream()
                        .filter(d -> name.equals(d.json().at("/data/backend").asText())).toList();
            } while (!mine.stream().map(d -> d.json().get("type").asText()).toList().containsAll(expected)
                    && System.nanoTime() < deadline);
            assertTrue(mine.stream().map(d -> d.json().get("type").asText()).toList().containsAll(expected),
                    mine.stream().map(d -> d.json().get("type").asText()).toList().toString());
            for (WebhookReceiver.Delivery delivery : mine) {
                WebhookReceiver.verify(delivery, FakeBackends.WEBHOOK_SECRET);
                assertFalse(delivery.body().contains(token) || delivery.body().contains(FakeBackends.ADMIN_TOKEN));
            }
            JsonNode registered = mine.stream().map(WebhookReceiver.Delivery::json)
                    .filter(event -> event.get("type").asText().equals("backend.registered")).findFirst().orElseThrow();
            assertEquals(fencing, registered.at("/data/lock_fencing").asLong(), registered.toString());
            assertTrue(mine.stream().map(WebhookReceiver.Delivery::json).anyMatch(event ->
                    event.get("type").asText().equals("backend.state_changed")
                            && event.at("/data/to").asText().equals("UP")), "PENDING -> UP announced");
        } finally {
            admin("DELETE", "/admin/lock?force=true", null);
            delta.close();
        }
    }

    private static Path auditFile() {
        return FakeBackends.ledger().getParent().resolve("state").resolve("audit.jsonl");
    }

    private static List<JsonNode> auditLines(String target) throws Exception {
        return Files.readAllLines(auditFile()).stream().map(GatewayTest::json)
                .filter(line -> target.equals(line.get("target").asText())).toList();
    }
}

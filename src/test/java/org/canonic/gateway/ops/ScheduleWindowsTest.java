package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.coordination.WebhookReceiver;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

import static org.canonic.gateway.ops.ScheduleTest.at;
import static org.canonic.gateway.ops.ScheduleTest.auditLines;
import static org.canonic.gateway.ops.ScheduleTest.body;
import static org.canonic.gateway.testing.AdminView.state;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Maintenance windows acting on a backend in the running gateway: a registered backend first on route main is drained
 * when its window starts (traffic goes to alpha), back in service when it ends or is deleted, left drained when an
 * operator drained it before; each step announced by a signed webhook and audited.
 */
@QuarkusTest
@TestProfile(ScheduleProfile.class)
class ScheduleWindowsTest extends GatewayTest {

    private static final String MODEL = "fake/gamma-model";

    private FakeVllm gamma;
    private String name;
    private AdminView view;

    @BeforeEach
    void gammaFirstOnMain() throws Exception {
        ScheduleTest.clearSchedule(gateway);
        view = new AdminView(gateway);
        gamma = FakeBackends.extra(MODEL);
        name = "gamma-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> registered = admin("POST", "/admin/backends", "{\"name\":\"" + name
                + "\",\"base_url\":\"" + gamma.baseUrl() + "\",\"model\":\"" + MODEL
                + "\",\"routes\":[{\"route\":\"main\",\"position\":0}]}");
        assertEquals(201, registered.statusCode(), registered.body());
        view.await(name, state("UP"), 5000);
    }

    @AfterEach
    void removeGamma() {
        ScheduleTest.clearSchedule(gateway);
        admin("DELETE", "/admin/backends/" + name, null);
        gamma.close();
    }

    private HttpResponse<String> admin(String method, String path, String body, String... more) {
        return ScheduleTest.admin(gateway, method, path, body, more);
    }

    private String servedBy() {
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals(200, answer.statusCode(), answer.body());
        return answer.headers().firstValue("x-gateway-provider").orElse(null);
    }

    private JsonNode entry(String id) {
        return json(admin("GET", "/admin/schedule/" + id, null).body());
    }

    private JsonNode awaitEntry(String id, String state, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        JsonNode last = entry(id);
        while (!state.equals(last.get("state").asText())) {
            assertTrue(System.nanoTime() < deadline, "entry did not become " + state + ": " + last);
            Thread.sleep(20);
            last = entry(id);
        }
        return last;
    }

    private static Predicate<JsonNode> drain(String... states) {
        return backend -> List.of(states).contains(backend.get("drain").asText());
    }

    /** The webhook events of one entry, in the order they arrived, once {@code count} have. */
    private static List<JsonNode> events(String id, int count) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<JsonNode> mine;
        do {
            mine = new ArrayList<>();
            for (WebhookReceiver.Delivery delivery : FakeBackends.webhooks().deliveries()) {
                JsonNode event = delivery.json();
                if (event.get("type").asText().startsWith("schedule.") && id.equals(event.at("/data/id").asText())) {
                    WebhookReceiver.verify(delivery, FakeBackends.WEBHOOK_SECRET);
                    mine.add(event);
                }
            }
            if (mine.size() >= count) {
                return mine;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("expected " + count + " events of " + id + ", got " + mine);
    }

    private static List<String> types(List<JsonNode> events) {
        return events.stream().map(e -> e.get("type").asText()).toList();
    }

    @Test
    void aMaintenanceWindowDrainsItsBackendWhileItLastsAndAnnouncesEachStep() throws Exception {
        assertEquals(name, servedBy(), "gamma is first on route main");
        Instant startsAt = Instant.now().plusMillis(1500);
        HttpResponse<String> created = admin("POST", "/admin/schedule", body("maintenance", "backend", name,
                startsAt.toString(), at(Duration.ofMillis(4000)), ""));
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).get("id").asText();
        assertEquals("planned", json(created.body()).get("state").asText());
        assertFalse(json(created.body()).get("drained_by_schedule").asBoolean());
        assertEquals(name, servedBy(), "nothing happens before the window");
        assertEquals("NONE", view.backend(name).get("drain").asText());

        view.await(name, drain("DRAINING", "DRAINED"), 3000);
        assertFalse(Instant.now().isBefore(startsAt), "drained when the window started, not before");
        JsonNode active = awaitEntry(id, "active", 1000);
        assertTrue(active.get("drained_by_schedule").asBoolean(), active.toString());
        view.await(name, drain("DRAINED"), 2000);
        int served = gamma.completionRequests().size();
        assertEquals("alpha", servedBy(), "traffic goes around the drained backend");
        assertEquals("alpha", servedBy());
        assertEquals(served, gamma.completionRequests().size(), "nothing new reaches it");

        view.await(name, drain("NONE"), 4000);
        assertEquals("ended", awaitEntry(id, "ended", 1000).get("state").asText());
        assertEquals(name, servedBy(), "back in service after the window");

        List<JsonNode> events = events(id, 3);
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended"), types(events));
        JsonNode data = events.get(1).get("data");
        List<String> fields = new ArrayList<>();
        data.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("id", "kind", "target_kind", "target", "starts_at", "ends_at", "holder"), fields);
        assertEquals(name, data.get("target").asText());
        assertEquals("alice", data.get("holder").asText());
        List<JsonNode> audit = auditLines(name);
        List<String> actions = audit.stream().map(l -> l.get("action").asText() + ":" + l.get("caller").asText())
                .filter(a -> a.startsWith("schedule.")).toList();
        assertEquals(List.of("schedule.drain:schedule", "schedule.undrain:schedule"), actions, audit.toString());
    }

    @Test
    void aBackendDrainedByHandBeforeItsWindowStaysDrainedAfterIt() throws Exception {
        assertEquals(202, admin("POST", "/admin/backends/" + name + "/drain", null).statusCode());
        view.await(name, drain("DRAINED"), 2000);
        HttpResponse<String> created = admin("POST", "/admin/schedule", body("maintenance", "backend", name,
                at(Duration.ZERO), at(Duration.ofMillis(1200)), ""));
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).get("id").asText();
        JsonNode active = awaitEntry(id, "active", 2000);
        assertFalse(active.get("drained_by_schedule").asBoolean(), "the operator drained it, not the window");
        awaitEntry(id, "ended", 3000);
        Thread.sleep(3 * ScheduleProfile.TICK_MS);
        assertEquals("DRAINED", view.backend(name).get("drain").asText(), "still as the operator left it");
        assertEquals("alpha", servedBy());
        assertTrue(auditLines(name).stream().noneMatch(l -> l.get("action").asText().startsWith("schedule.")),
                "the window neither drained nor undrained it");
    }

    @Test
    void deletingAnActiveWindowEndsItAndPutsTheBackendBackAtOnce() throws Exception {
        HttpResponse<String> created = admin("POST", "/admin/schedule", body("maintenance", "backend", name,
                at(Duration.ZERO), at(Duration.ofHours(1)), ""));
        String id = json(created.body()).get("id").asText();
        view.await(name, drain("DRAINING", "DRAINED"), 2000);
        awaitEntry(id, "active", 1000);

        HttpResponse<String> deleted = admin("DELETE", "/admin/schedule/" + id, null, "X-Gateway-Actor", "carol");
        assertEquals(200, deleted.statusCode(), deleted.body());
        assertEquals("active", json(deleted.body()).get("state").asText(), "answered as it was");
        assertEquals("NONE", view.backend(name).get("drain").asText(), "undrained before the answer");
        assertEquals(name, servedBy());
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended", "schedule.deleted"),
                types(events(id, 4)));
        List<String> actions = auditLines(name).stream().map(l -> l.get("action").asText())
                .filter(a -> a.startsWith("schedule.")).toList();
        assertEquals(List.of("schedule.drain", "schedule.undrain"), actions);
        assertEquals("carol", auditLines(id).get(auditLines(id).size() - 1).get("caller").asText());
    }
}

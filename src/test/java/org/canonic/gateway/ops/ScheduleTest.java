package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The schedule registry's API over real HTTP: entries, validation, conflicts, the lock and the audit log. */
@QuarkusTest
@TestProfile(ScheduleProfile.class)
class ScheduleTest extends GatewayTest {

    static final List<String> FIELDS = List.of("id", "kind", "target_kind", "target", "starts_at", "ends_at",
            "holder", "note", "details", "state", "created_at", "created_by");

    @BeforeEach
    void emptySchedule() {
        clearSchedule(gateway);
    }

    static void clearSchedule(org.canonic.gateway.testing.GatewayClient gateway) {
        admin(gateway, "DELETE", "/admin/lock?force=true", null);
        for (JsonNode entry : json(admin(gateway, "GET", "/admin/schedule", null).body()).get("data")) {
            admin(gateway, "DELETE", "/admin/schedule/" + entry.get("id").asText(), null);
        }
    }

    static HttpResponse<String> admin(org.canonic.gateway.testing.GatewayClient gateway, String method, String path,
                                      String body, String... more) {
        List<String> headers = new ArrayList<>(List.of("authorization", "Bearer " + FakeBackends.ADMIN_TOKEN));
        headers.addAll(List.of(more));
        return gateway.call(method, path, body, headers.toArray(String[]::new));
    }

    private HttpResponse<String> admin(String method, String path, String body, String... more) {
        return admin(gateway, method, path, body, more);
    }

    static String at(Duration fromNow) {
        return Instant.now().plus(fromNow).truncatedTo(ChronoUnit.MILLIS).toString();
    }

    static String body(String kind, String targetKind, String target, String startsAt, String endsAt, String more) {
        return "{\"kind\":\"" + kind + "\",\"target_kind\":\"" + targetKind + "\",\"target\":\"" + target
                + "\",\"starts_at\":\"" + startsAt + "\",\"ends_at\":\"" + endsAt + "\",\"holder\":\"alice\"" + more
                + "}";
    }

    private static String reservation(String target) {
        return body("reservation", "route", target, at(Duration.ofHours(1)), at(Duration.ofHours(2)), "");
    }

    static Path stateDir() {
        return FakeBackends.ledger().getParent().resolve("schedule-state");
    }

    static List<JsonNode> auditLines(String target) throws Exception {
        Path file = stateDir().resolve("audit.jsonl");
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file).stream().map(GatewayTest::json)
                .filter(line -> target.equals(line.path("target").asText())).toList();
    }

    private static void assertError(HttpResponse<String> answer, int status, String code, String param) {
        assertEquals(status, answer.statusCode(), answer.body());
        JsonNode error = json(answer.body()).get("error");
        assertTrue(error != null && error.has("message") && error.has("type") && error.has("param")
                && error.has("code"), "OpenAI-shaped: " + answer.body());
        assertEquals(code, error.get("code").asText(), answer.body());
        assertEquals(param, error.get("param").isNull() ? null : error.get("param").asText(), answer.body());
        assertEquals(status >= 500 ? "server_error" : "invalid_request_error", error.get("type").asText());
    }

    @Test
    void anEntryIsCreatedReadListedAndDeleted() {
        HttpResponse<String> created = admin("POST", "/admin/schedule", body("model_swap", "route", "main",
                at(Duration.ofHours(1)), at(Duration.ofHours(2)),
                ",\"note\":\"swap to qwen 32b\",\"details\":{\"model\":\"Qwen/Qwen2.5-32B\",\"gpus\":2}"),
                "X-Gateway-Actor", "alice-bot");
        assertEquals(201, created.statusCode(), created.body());
        JsonNode entry = json(created.body());
        List<String> fields = new ArrayList<>();
        entry.fieldNames().forEachRemaining(fields::add);
        assertEquals(FIELDS, fields, "the contract's fields, in its order");
        String id = entry.get("id").asText();
        assertTrue(id.matches("sch_[0-9a-f-]{36}"), id);
        assertEquals("/admin/schedule/" + id, java.net.URI.create(created.headers().firstValue("location")
                .orElseThrow()).getPath());
        assertEquals("model_swap", entry.get("kind").asText());
        assertEquals("route", entry.get("target_kind").asText());
        assertEquals("main", entry.get("target").asText());
        assertEquals("alice", entry.get("holder").asText());
        assertEquals("swap to qwen 32b", entry.get("note").asText());
        assertEquals(2, entry.at("/details/gpus").asInt());
        assertEquals("planned", entry.get("state").asText());
        assertEquals("alice-bot", entry.get("created_by").asText());
        Instant.parse(entry.get("created_at").asText());

        HttpResponse<String> one = admin("GET", "/admin/schedule/" + id, null);
        assertEquals(200, one.statusCode());
        assertEquals(entry, json(one.body()));
        HttpResponse<String> list = admin("GET", "/admin/schedule", null);
        assertEquals("list", json(list.body()).get("object").asText());
        assertEquals(List.of(entry), toList(json(list.body()).get("data")));

        HttpResponse<String> deleted = admin("DELETE", "/admin/schedule/" + id, null);
        assertEquals(200, deleted.statusCode(), deleted.body());
        assertEquals(entry, json(deleted.body()));
        assertError(admin("GET", "/admin/schedule/" + id, null), 404, "schedule_not_found", "id");
        assertError(admin("DELETE", "/admin/schedule/" + id, null), 404, "schedule_not_found", "id");
        assertEquals(401, gateway.get("/admin/schedule").statusCode(), "the admin token is required");
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> list = new ArrayList<>();
        array.forEach(list::add);
        return list;
    }

    @Test
    void everyInvalidFieldIsRefusedWithItsName() {
        String soon = at(Duration.ofHours(1));
        String later = at(Duration.ofHours(2));
        record Case(String body, int status, String code, String param) {
        }
        List<Case> cases = List.of(
                new Case("{not json", 400, "invalid_json", null),
                new Case("[1,2]", 400, "invalid_json", null),
                new Case("", 400, "invalid_json", null),
                new Case(body("reservation", "route", "main", soon, later, ",\"colour\":\"red\""), 400,
                        "unknown_field", "colour"),
                new Case(body("coffee", "route", "main", soon, later, ""), 400, "invalid_value", "kind"),
                new Case(body("reservation", "planet", "main", soon, later, ""), 400, "invalid_value", "target_kind"),
                new Case(body("reservation", "route", "main route", soon, later, ""), 400, "invalid_value", "target"),
                new Case(body("reservation", "route", "x".repeat(129), soon, later, ""), 400, "invalid_value",
                        "target"),
                new Case(body("maintenance", "backend", "no-such-backend", soon, later, ""), 400, "unknown_backend",
                        "target"),
                new Case(body("reservation", "route", "main", "tomorrow", later, ""), 400, "invalid_value",
                        "starts_at"),
                new Case(body("reservation", "route", "main", soon, "2026-13-01T00:00:00Z", ""), 400, "invalid_value",
                        "ends_at"),
                new Case(body("reservation", "route", "main", later, soon, ""), 400, "invalid_value", "ends_at"),
                new Case(body("reservation", "route", "main", at(Duration.ofHours(-3)), at(Duration.ofHours(-2)), ""),
                        400, "invalid_value", "ends_at"),
                new Case(body("reservation", "route", "main", soon, at(Duration.ofDays(8)), ""), 400, "invalid_value",
                        "ends_at"),
                new Case(body("reservation", "route", "main", at(Duration.ofDays(91)), at(Duration.ofDays(92)), ""),
                        400, "invalid_value", "starts_at"),
                new Case("{\"kind\":\"reservation\",\"target_kind\":\"route\",\"target\":\"main\",\"starts_at\":\""
                        + soon + "\",\"ends_at\":\"" + later + "\"}", 400, "missing_field", "holder"),
                new Case(body("reservation", "route", "main", soon, later, "").replace("\"alice\"",
                        "\"\\u0007\\u0000 \""), 400, "invalid_value", "holder"),
                new Case(body("reservation", "route", "main", soon, later, "").replace("\"alice\"",
                        "\"" + "h".repeat(65) + "\""), 400, "invalid_value", "holder"),
                new Case(body("reservation", "route", "main", soon, later, "").replace("\"alice\"", "42"), 400,
                        "invalid_value", "holder"),
                new Case(body("reservation", "route", "main", soon, later, ",\"note\":\"" + "n".repeat(1001) + "\""),
                        400, "invalid_value", "note"),
                new Case(body("reservation", "route", "main", soon, later, ",\"details\":[1]"), 400, "invalid_value",
                        "details"),
                new Case(body("capacity", "route", "main", soon, later, ""), 400, "invalid_value", "target_kind"),
                new Case(body("capacity", "recipe", "main", soon, later, ",\"details\":{\"min_instances\":0}"), 400,
                        "invalid_value", "details.min_instances"),
                new Case(body("capacity", "recipe", "main", soon, later, ",\"details\":{\"min_instances\":\"2\"}"),
                        400, "invalid_value", "details.min_instances"),
                new Case(body("reservation", "route", "main", soon, later, ",\"details\":{\"blob\":\""
                        + "d".repeat(4100) + "\"}"), 400, "invalid_value", "details"),
                new Case(body("reservation", "route", "main", soon, later, ",\"note\":\"" + "n".repeat(70_000)
                        + "\""), 413, "request_too_large", null),
                new Case(body("reservation", "route", "main", soon, later, "").replace("\"holder\"",
                        "\"holder\":\"a\",\"holder\""), 400, "invalid_json", null));
        for (Case c : cases) {
            assertError(admin("POST", "/admin/schedule", c.body()), c.status(), c.code(), c.param());
        }
        assertEquals(0, json(admin("GET", "/admin/schedule", null).body()).get("data").size(), "nothing was stored");
    }

    @Test
    void theHolderIsKeptAsTextWithoutControlCharactersAndOffsetsAreReadAsInstants() {
        String starts = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS)
                .atOffset(java.time.ZoneOffset.ofHours(2)).toString();
        HttpResponse<String> created = admin("POST", "/admin/schedule", body("capacity", "recipe", "chat", starts,
                at(Duration.ofHours(3)), "").replace("\"alice\"", "\"<b>al\\u0007ice</b>\\n\""));
        assertEquals(201, created.statusCode(), created.body());
        JsonNode entry = json(created.body());
        assertEquals("<b>alice</b>", entry.get("holder").asText(), "not escaped here: the console escapes");
        assertEquals(java.time.OffsetDateTime.parse(starts).toInstant().toString(), entry.get("starts_at").asText());
        assertTrue(entry.get("note").isNull() && entry.get("details").isNull());
        assertFalse(entry.has("drained_by_schedule"), "only a maintenance window of a backend drains");
    }

    @Test
    void theListFiltersByWindowTargetAndKindAndRefusesBadFilters() {
        String a = json(admin("POST", "/admin/schedule", body("reservation", "route", "main", at(Duration.ofHours(3)),
                at(Duration.ofHours(4)), "")).body()).get("id").asText();
        String b = json(admin("POST", "/admin/schedule", body("maintenance", "backend", "beta",
                at(Duration.ofHours(1)), at(Duration.ofHours(2)), "")).body()).get("id").asText();
        assertEquals(List.of(b, a), ids(admin("GET", "/admin/schedule", null)), "sorted by starts_at");
        assertEquals(List.of(b), ids(admin("GET", "/admin/schedule?to=" + at(Duration.ofMinutes(150)), null)));
        assertEquals(List.of(a), ids(admin("GET", "/admin/schedule?from=" + at(Duration.ofMinutes(150)) + "&to="
                + at(Duration.ofHours(5)), null)));
        assertEquals(List.of(b), ids(admin("GET", "/admin/schedule?target=beta", null)));
        assertEquals(List.of(a), ids(admin("GET", "/admin/schedule?kind=reservation", null)));
        assertEquals(List.of(), ids(admin("GET", "/admin/schedule?kind=capacity&target=main", null)));
        assertError(admin("GET", "/admin/schedule?from=yesterday", null), 400, "invalid_value", "from");
        assertError(admin("GET", "/admin/schedule?to=2026-02-30T00:00:00Z", null), 400, "invalid_value", "to");
        assertError(admin("GET", "/admin/schedule?from=" + at(Duration.ofHours(2)) + "&to=" + at(Duration.ofHours(1)),
                null), 400, "invalid_value", "to");
        assertError(admin("GET", "/admin/schedule?kind=coffee", null), 400, "invalid_value", "kind");
        assertError(admin("GET", "/admin/schedule?target=a%20b", null), 400, "invalid_value", "target");
    }

    private static List<String> ids(HttpResponse<String> list) {
        assertEquals(200, list.statusCode(), list.body());
        return toList(json(list.body()).get("data")).stream().map(e -> e.get("id").asText()).toList();
    }

    @Test
    void overlappingMaintenanceOfOneTargetIsAConflictNamingTheOtherEntry() {
        HttpResponse<String> first = admin("POST", "/admin/schedule", body("maintenance", "backend", "beta",
                at(Duration.ofHours(1)), at(Duration.ofHours(2)), ""));
        assertEquals(201, first.statusCode(), first.body());
        String id = json(first.body()).get("id").asText();
        HttpResponse<String> second = admin("POST", "/admin/schedule", body("maintenance", "backend", "beta",
                at(Duration.ofMinutes(90)), at(Duration.ofHours(3)), ""));
        assertError(second, 409, "schedule_conflict", "starts_at");
        assertTrue(json(second.body()).at("/error/message").asText().contains(id), second.body());
        assertEquals(201, admin("POST", "/admin/schedule", body("maintenance", "route", "beta",
                at(Duration.ofMinutes(90)), at(Duration.ofHours(3)), "")).statusCode(), "another target kind");
        assertEquals(201, admin("POST", "/admin/schedule", body("reservation", "backend", "beta",
                at(Duration.ofMinutes(90)), at(Duration.ofHours(3)), "")).statusCode(), "another kind");
    }

    @Test
    void aFullScheduleRefusesMore() {
        for (int i = 0; i < ScheduleProfile.MAX_ENTRIES; i++) {
            assertEquals(201, admin("POST", "/admin/schedule", reservation("r" + i)).statusCode());
        }
        assertError(admin("POST", "/admin/schedule", reservation("one-more")), 409, "schedule_full", null);
    }

    @Test
    void whileTheLockIsHeldOnlyItsTokenChangesTheScheduleAndEveryStepIsAudited() throws Exception {
        HttpResponse<String> acquired = admin("POST", "/admin/lock",
                "{\"holder\":\"ops\",\"reason\":\"planning\",\"ttl_seconds\":60}");
        assertEquals(201, acquired.statusCode(), acquired.body());
        String token = json(acquired.body()).get("token").asText();
        long fencing = json(acquired.body()).get("fencing").asLong();
        try {
            HttpResponse<String> locked = admin("POST", "/admin/schedule", reservation("locked-target"));
            assertError(locked, 423, "maintenance_locked", null);
            assertTrue(locked.headers().firstValue("retry-after").isPresent());
            assertEquals(0, json(admin("GET", "/admin/schedule", null).body()).get("data").size());

            HttpResponse<String> created = admin("POST", "/admin/schedule", reservation("locked-target"),
                    "X-Gateway-Lock-Token", token, "X-Gateway-Actor", "ops");
            assertEquals(201, created.statusCode(), created.body());
            String id = json(created.body()).get("id").asText();
            assertError(admin("DELETE", "/admin/schedule/" + id, null), 423, "maintenance_locked", null);
            assertEquals(200, admin("DELETE", "/admin/schedule/" + id, null, "X-Gateway-Lock-Token", token)
                    .statusCode());

            List<JsonNode> byId = auditLines(id);
            assertEquals(List.of("schedule.create:ok", "schedule.delete:maintenance_locked", "schedule.delete:ok"),
                    byId.stream().map(l -> l.get("action").asText() + ":" + l.get("result").asText()).toList(),
                    byId.toString());
            assertEquals("ops", byId.get(0).get("caller").asText());
            assertEquals(fencing, byId.get(0).get("lock").asLong());
            assertTrue(byId.get(0).get("before").isNull() && byId.get(0).at("/after/id").asText().equals(id));
            assertEquals(id, byId.get(2).at("/before/id").asText());
            assertFalse(Files.readString(stateDir().resolve("audit.jsonl")).contains(token));
            List<String> refusedCreates = Files.readAllLines(stateDir().resolve("audit.jsonl")).stream()
                    .map(GatewayTest::json).filter(l -> l.get("action").asText().equals("schedule.create")
                            && l.get("result").asText().equals("maintenance_locked")).map(l -> l.toString()).toList();
            assertFalse(refusedCreates.isEmpty(), "the refused create is audited too");
        } finally {
            admin("DELETE", "/admin/lock", null, "X-Gateway-Lock-Token", token);
        }
    }

    @Test
    void entriesAreKeptInTheStateDirectory() throws Exception {
        HttpResponse<String> created = admin("POST", "/admin/schedule", reservation("kept"));
        String id = json(created.body()).get("id").asText();
        JsonNode file = json(Files.readString(stateDir().resolve("schedule.json")));
        assertEquals(id, file.at("/entries/0/id").asText(), file.toString());
        assertNull(file.get("token"));
    }
}

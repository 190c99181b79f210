package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.Locked;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayClient;
import org.canonic.gateway.testing.LogCapture;
import org.canonic.gateway.testing.Metrics;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.canonic.gateway.ops.AdminClient.error;
import static org.canonic.gateway.ops.AdminClient.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The maintenance lock over real HTTP, in the running gateway. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class LockResourceTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String TOKEN = MaintenanceLock.TOKEN_HEADER;

    @TestHTTPResource("/")
    URL url;

    @TestHTTPResource(value = "/", management = true)
    URL managementUrl;

    @Inject
    MaintenanceLock lock;

    private AdminClient client;

    @BeforeEach
    void noLockHeld() throws Exception {
        client = new AdminClient(url.toURI());
        int status = client.admin("DELETE", "/admin/lock?force=true", null).statusCode();
        assertTrue(status == 200 || status == 409, "force release answered " + status);
    }

    private static Path state() {
        return FakeBackends.ledger().getParent().resolve("state");
    }

    private static List<String> auditLines() throws Exception {
        Path audit = state().resolve(AuditLog.FILE);
        return Files.exists(audit) ? Files.readAllLines(audit) : List.of();
    }

    private JsonNode acquire(String holder, long ttlSeconds, String... headers) {
        HttpResponse<String> answer = client.admin("POST", "/admin/lock",
                "{\"holder\":\"" + holder + "\",\"reason\":\"test\",\"ttl_seconds\":" + ttlSeconds + "}", headers);
        assertEquals(201, answer.statusCode(), answer.body());
        return json(answer);
    }

    private JsonNode status() {
        HttpResponse<String> answer = client.admin("GET", "/admin/lock", null);
        assertEquals(200, answer.statusCode(), answer.body());
        return json(answer);
    }

    @Test
    void acquireShowRelease() {
        HttpResponse<String> created = client.admin("POST", "/admin/lock",
                "{\"holder\":\"provisioner\",\"reason\":\"swap vastai\",\"ttl_seconds\":600}");
        assertEquals(201, created.statusCode(), created.body());
        assertTrue(created.headers().firstValue("cache-control").orElse("").contains("no-store"));
        JsonNode grant = json(created);
        List<String> fields = new ArrayList<>();
        grant.fieldNames().forEachRemaining(fields::add);
        assertEquals(List.of("holder", "reason", "token", "fencing", "expires_at"), fields);
        String token = grant.get("token").asText();
        assertTrue(token.length() >= 30, token.length() + " characters");

        HttpResponse<String> shown = client.admin("GET", "/admin/lock", null);
        assertFalse(shown.body().contains(token), "GET never shows the token");
        JsonNode status = json(shown);
        assertTrue(status.get("held").asBoolean());
        assertEquals("provisioner", status.get("holder").asText());
        assertEquals("swap vastai", status.get("reason").asText());
        assertEquals(grant.get("fencing").asLong(), status.get("fencing").asLong());
        assertEquals(grant.get("expires_at").asText(), status.get("expires_at").asText());
        long left = status.get("seconds_left").asLong();
        assertTrue(left > 580 && left <= 600, "seconds_left " + left);

        HttpResponse<String> released = client.admin("DELETE", "/admin/lock", null, TOKEN, token);
        assertEquals(200, released.statusCode(), released.body());
        assertEquals("provisioner", json(released).get("holder").asText());
        assertFalse(status().get("held").asBoolean());
        assertEquals(409, client.admin("DELETE", "/admin/lock", null, TOKEN, token).statusCode());
    }

    @Test
    void whileHeldEveryoneElseGets423WithHolderExpiryAndRetryAfter() {
        JsonNode grant = acquire("provisioner", 600);
        String token = grant.get("token").asText();

        HttpResponse<String> second = client.admin("POST", "/admin/lock", "{\"holder\":\"intruder\"}");
        assertEquals(423, second.statusCode(), second.body());
        long retryAfter = Long.parseLong(second.headers().firstValue("retry-after").orElseThrow());
        assertTrue(retryAfter > 580 && retryAfter <= 600, "Retry-After " + retryAfter);
        JsonNode refused = error(second);
        assertEquals("maintenance_locked", refused.get("code").asText());
        assertTrue(refused.get("message").asText().contains("provisioner")
                && refused.get("message").asText().contains(grant.get("expires_at").asText()), refused.toString());
        assertFalse(second.body().contains(token));

        HttpResponse<String> wrong = client.admin("PUT", "/admin/lock/renew", "{\"ttl_seconds\":60}", TOKEN,
                "gwlock_not-the-token");
        assertEquals(423, wrong.statusCode(), wrong.body());
        assertEquals(400, client.admin("PUT", "/admin/lock/renew", null).statusCode(), "no token at all");

        HttpResponse<String> renewed = client.admin("PUT", "/admin/lock/renew", "{\"ttl_seconds\":1200}", TOKEN, token);
        assertEquals(200, renewed.statusCode(), renewed.body());
        assertTrue(json(renewed).get("seconds_left").asLong() > 1100);
        assertEquals("provisioner", status().get("holder").asText());
    }

    @Test
    void guardedMutationsInTheAppNeedTheTokenOfTheLockTakenOverHttp() {
        assertFalse(lock.guarded(null, g -> g).locked(), "no lock: mutations pass");
        JsonNode grant = acquire("provisioner", 600);
        Locked refused = assertThrows(Locked.class, () -> lock.guarded(null, () -> "changed"));
        assertEquals("provisioner", refused.holder());
        assertThrows(Locked.class, () -> lock.guarded("gwlock_guess", () -> "changed"));
        MaintenanceLock.Guard guard = lock.guarded(grant.get("token").asText(), g -> g);
        assertEquals(grant.get("fencing").asLong(), guard.fencing());
    }

    @Test
    void aShortLeaseExpiresByItself() throws Exception {
        long fencing = acquire("brief", 1).get("fencing").asLong();
        long deadline = System.currentTimeMillis() + 10_000;
        while (status().get("held").asBoolean()) {
            assertTrue(System.currentTimeMillis() < deadline, "the lock did not expire within 10 s");
            Thread.sleep(100);
        }
        assertEquals(fencing + 1, acquire("next", 60).get("fencing").asLong());
    }

    @Test
    void twentyConcurrentAcquisitionsGiveExactlyOneHolder() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(20);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> statuses = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String body = "{\"holder\":\"racer-" + i + "\",\"ttl_seconds\":60}";
            Callable<Integer> race = () -> {
                start.await();
                return client.admin("POST", "/admin/lock", body).statusCode();
            };
            statuses.add(pool.submit(race));
        }
        start.countDown();
        List<Integer> answers = new ArrayList<>();
        for (Future<Integer> status : statuses) {
            answers.add(status.get());
        }
        pool.shutdown();
        assertEquals(1, answers.stream().filter(s -> s == 201).count(), answers.toString());
        assertEquals(19, answers.stream().filter(s -> s == 423).count(), answers.toString());
    }

    @Test
    void badInputIsRefusedClearlyAndChangesNothing() throws Exception {
        long fencing = status().get("fencing").asLong();
        byte[] lockFile = Files.exists(state().resolve(MaintenanceLock.FILE))
                ? Files.readAllBytes(state().resolve(MaintenanceLock.FILE)) : new byte[0];
        record Case(String body, String code, String words) {
        }
        List<Case> cases = List.of(
                new Case("{\"holder\":\"a\",\"ttl_seconds\":0}", "invalid_ttl", "between 1 and 86400"),
                new Case("{\"holder\":\"a\",\"ttl_seconds\":-3}", "invalid_ttl", "between 1 and 86400"),
                new Case("{\"holder\":\"a\",\"ttl_seconds\":31536000}", "invalid_ttl", "between 1 and 86400"),
                new Case("{\"holder\":\"a\",\"ttl_seconds\":\"600\"}", "invalid_ttl", "whole number"),
                new Case("{\"holder\":\"a\",\"ttl_seconds\":1.5}", "invalid_ttl", "whole number"),
                new Case("{\"reason\":\"no holder\"}", "missing_holder", "'holder' is required"),
                new Case("{\"holder\":\"   \"}", "missing_holder", "'holder' is required"),
                new Case("{\"holder\":42}", "invalid_holder", "must be a string"),
                new Case("holder=a", "invalid_json", "not valid JSON"),
                new Case("{\"holder\":\"a\"", "invalid_json", "not valid JSON"),
                new Case("{\"holder\":\"a\",\"holder\":\"b\"}", "invalid_json", "repeats a field"),
                new Case("[\"a\"]", "invalid_json", "JSON object"),
                new Case("", "invalid_json", "JSON object"),
                new Case("{\"holder\":\"a\",\"ttl\":\"1h\"}", "unknown_field", "Unknown field 'ttl'"));
        for (Case bad : cases) {
            HttpResponse<String> refused = client.admin("POST", "/admin/lock", bad.body());
            assertEquals(400, refused.statusCode(), bad.body() + " → " + refused.body());
            JsonNode error = error(refused);
            assertEquals(bad.code(), error.get("code").asText(), bad.body());
            assertEquals("invalid_request_error", error.get("type").asText());
            assertTrue(error.get("message").asText().contains(bad.words()), error.get("message").asText());
        }
        assertEquals(400, client.admin("DELETE", "/admin/lock?force=maybe", null).statusCode());
        assertEquals(400, client.admin("DELETE", "/admin/lock", null).statusCode(), "no token, no force");
        assertEquals(409, client.admin("DELETE", "/admin/lock", null, TOKEN, "gwlock_x").statusCode(), "no lock");

        JsonNode after = status();
        assertFalse(after.get("held").asBoolean());
        assertEquals(fencing, after.get("fencing").asLong());
        if (lockFile.length > 0) {
            assertArrayEquals(lockFile, Files.readAllBytes(state().resolve(MaintenanceLock.FILE)));
        }

        // While held: a wrong token and a bad renewal change nothing either.
        JsonNode grant = acquire("keeper", 600);
        JsonNode held = status();
        assertEquals(423, client.admin("DELETE", "/admin/lock", null, TOKEN, "gwlock_wrong").statusCode());
        assertEquals(400, client.admin("PUT", "/admin/lock/renew", "{\"ttl_seconds\":0}", TOKEN,
                grant.get("token").asText()).statusCode());
        assertEquals(400, client.admin("PUT", "/admin/lock/renew", "not json", TOKEN,
                grant.get("token").asText()).statusCode());
        assertEquals(held.get("expires_at"), status().get("expires_at"));
        assertEquals("keeper", status().get("holder").asText());
    }

    @Test
    void aForcedReleaseIsAuditedAsSuch() throws Exception {
        acquire("vanished-bot", 600, AuditLog.ACTOR_HEADER, "bot");
        int before = auditLines().size();
        HttpResponse<String> forced = client.admin("DELETE", "/admin/lock?force=true", null, AuditLog.ACTOR_HEADER,
                "alice@ops");
        assertEquals(200, forced.statusCode(), forced.body());
        assertTrue(json(forced).get("forced").asBoolean());
        List<String> lines = auditLines();
        assertEquals(before + 1, lines.size());
        JsonNode line = MAPPER.readTree(lines.get(lines.size() - 1));
        assertEquals("lock.force_release", line.get("action").asText());
        assertEquals("alice@ops", line.get("caller").asText());
        assertEquals("ok", line.get("result").asText());
        assertEquals("vanished-bot", line.at("/before/holder").asText());
        assertTrue(line.get("after").isNull());
        assertTrue(line.get("lock").isNull());
        assertFalse(status().get("held").asBoolean());
    }

    @Test
    void everyMutationWritesExactlyOneAuditLineAndTheTokenGoesNowhere() throws Exception {
        String previous = Files.exists(state().resolve(AuditLog.FILE))
                ? Files.readString(state().resolve(AuditLog.FILE)) : "";
        List<String> seen = new ArrayList<>();
        String token;
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> created = client.admin("POST", "/admin/lock", "{\"holder\":\"p\",\"ttl_seconds\":60}",
                    AuditLog.ACTOR_HEADER, "alice <evil> 1");
            token = json(created).get("token").asText();
            assertEquals(previous.lines().count() + 1, auditLines().size());
            seen.add(client.admin("PUT", "/admin/lock/renew", "{\"ttl_seconds\":120}", TOKEN, token).body());
            assertEquals(previous.lines().count() + 2, auditLines().size());
            seen.add(client.admin("DELETE", "/admin/lock", null, TOKEN, "gwlock_wrong").body());
            assertEquals(previous.lines().count() + 3, auditLines().size(), "a refused mutation is audited too");
            seen.add(client.admin("GET", "/admin/lock", null).body());
            assertEquals(previous.lines().count() + 3, auditLines().size(), "reads are not audited");
            seen.add(client.admin("DELETE", "/admin/lock", null, TOKEN, token).body());
            assertEquals(previous.lines().count() + 4, auditLines().size());
            Thread.sleep(200);
            assertFalse(logs.text().contains(token), "the token is never logged");
        }
        String audit = Files.readString(state().resolve(AuditLog.FILE));
        assertTrue(audit.startsWith(previous), "the audit file is only appended to");
        List<String> added = audit.substring(previous.length()).lines().toList();
        List<JsonNode> lines = new ArrayList<>();
        for (String line : added) {
            lines.add(MAPPER.readTree(line));
        }
        assertEquals(List.of("lock.acquire", "lock.renew", "lock.release", "lock.release"),
                lines.stream().map(l -> l.get("action").asText()).toList());
        assertEquals(List.of("ok", "ok", "maintenance_locked", "ok"),
                lines.stream().map(l -> l.get("result").asText()).toList());
        assertEquals("aliceevil1", lines.get(0).get("caller").asText(), "the actor header is sanitized");
        assertEquals("admin", lines.get(1).get("caller").asText());
        long fencing = lines.get(0).at("/after/fencing").asLong();
        assertTrue(lines.get(0).get("lock").isNull());
        assertEquals(fencing, lines.get(1).get("lock").asLong());
        assertTrue(lines.get(2).get("lock").isNull());
        assertEquals(fencing, lines.get(3).get("lock").asLong());
        for (JsonNode line : lines) {
            Instant.parse(line.get("time").asText());
            for (String field : List.of("time", "caller", "action", "target", "before", "after", "result", "lock")) {
                assertTrue(line.has(field), field + " missing in " + line);
            }
        }
        assertFalse(audit.contains(token), "the audit log never holds a token");
        assertFalse(Files.readString(state().resolve(MaintenanceLock.FILE)).contains(token));
        assertFalse(String.join("\n", seen).contains(token));
        assertFalse(Metrics.scrape(new GatewayClient(managementUrl.toURI())).text().contains(token));
    }
}

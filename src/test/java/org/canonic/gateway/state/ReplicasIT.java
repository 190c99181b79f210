package org.canonic.gateway.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayClient;
import org.canonic.gateway.testing.PackagedGateway;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two packaged gateways sharing one real Redis (GATEWAY_STATE_STORE=redis): one maintenance lock for both, a
 * registration on one serving on the other within a second, one leader (and a new one when it stops), audit lines
 * of both in one stream, and, with Redis stopped, proxying that goes on while every change is refused with 503.
 * Ordered: the last tests stop a gateway and then Redis.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplicasIT {

    private static final String ADMIN = "replicas-it-admin-token-0123456789abcdef";
    private static final String MODEL = "fake/replicas-model";
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String VASTAI_KEY = "replicas-it-vastai-key-0123456789";

    private static RedisServer redis;
    private static Vertx vertx;
    private static FakeVllm fake;
    private static PackagedGateway a;
    private static PackagedGateway b;
    private static FakeVastAi vastai;

    @BeforeAll
    static void start() throws Exception {
        assertTrue(Files.exists(PackagedGateway.JAR), "package the gateway first");
        redis = RedisServer.start();
        vertx = Vertx.vertx();
        fake = FakeVllm.start(vertx, MODEL);
        vastai = new FakeVastAi(vertx, VASTAI_KEY);
        vastai.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        CompletableFuture<PackagedGateway> first = CompletableFuture.supplyAsync(() -> launch("replica-a"));
        CompletableFuture<PackagedGateway> second = CompletableFuture.supplyAsync(() -> launch("replica-b"));
        a = first.get(90, TimeUnit.SECONDS);
        b = second.get(90, TimeUnit.SECONDS);
    }

    /** The one sealing key both replicas are given (a mounted secret in a real deployment). */
    private static synchronized Path stateKey() throws java.io.IOException {
        if (stateKey == null) {
            stateKey = Files.createTempFile("state-key", ".txt");
            Files.writeString(stateKey, "replicas-it-state-key-0123456789abcdef0123456789");
        }
        return stateKey;
    }

    private static Path stateKey;
    /** Each replica's state directory, by replica id. */
    private static final Map<String, Path> STATE_DIRS = new java.util.concurrent.ConcurrentHashMap<>();

    private static PackagedGateway launch(String id) {
        try {
            Map<String, String> env = new HashMap<>(Map.of("GATEWAY_STATE_STORE", "redis",
                    "QUARKUS_REDIS_HOSTS", redis.url(), "GATEWAY_STATE_REPLICA_ID", id, "GATEWAY_STATE_LEADER_TTL",
                    "2s", "GATEWAY_AUTH", "none", "GATEWAY_ADMIN_TOKEN", ADMIN,
                    "GATEWAY_STATE_DIR", STATE_DIRS.computeIfAbsent(id, ReplicasIT::tempDir).toString()));
            // The fake backend listens on loopback, which the admin API refuses unless allowed.
            env.put("GATEWAY_ADMIN_ALLOWED_NETWORKS", "127.0.0.0/8");
            env.put("VASTAI_API_URL", vastai.url());
            env.put("VASTAI_ACCOUNT_KEY", VASTAI_KEY);
            env.put("GATEWAY_STATE_KEY_FILE", stateKey().toString());
            return PackagedGateway.start(env);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (PackagedGateway gateway : new PackagedGateway[]{a, b}) {
            if (gateway != null && gateway.process().isAlive()) {
                gateway.terminate(40);
            }
        }
        if (redis != null) {
            redis.close();
        }
        if (vastai != null) {
            vastai.close();
        }
        if (vertx != null) {
            vertx.close();
        }
    }

    @Test
    @Order(1)
    void aLockTakenOnOneReplicaHoldsOnTheOther() throws Exception {
        HttpResponse<String> taken = admin(a, "POST", "/admin/lock", "{\"holder\":\"alice\",\"ttl_seconds\":60}");
        assertEquals(201, taken.statusCode(), taken.body());
        JsonNode grant = MAPPER.readTree(taken.body());

        HttpResponse<String> second = admin(b, "POST", "/admin/lock", "{\"holder\":\"bob\"}");
        assertEquals(423, second.statusCode(), second.body());
        assertTrue(second.body().contains("'alice'"), second.body());
        long retryAfter = Long.parseLong(second.headers().firstValue("retry-after").orElseThrow());
        assertTrue(retryAfter > 50 && retryAfter <= 60, "Retry-After counts down the shared lease: " + retryAfter);
        HttpResponse<String> change = admin(b, "POST", "/admin/backends", registration("locked-out"));
        assertEquals(423, change.statusCode(), change.body());
        assertEquals("maintenance_locked", MAPPER.readTree(change.body()).at("/error/code").asText());

        JsonNode onB = MAPPER.readTree(admin(b, "GET", "/admin/lock", null).body());
        assertEquals("alice", onB.get("holder").asText());
        assertEquals(grant.get("fencing").asLong(), onB.get("fencing").asLong());

        HttpResponse<String> released = b.client().call("DELETE", "/admin/lock", null, "authorization",
                "Bearer " + ADMIN, "X-Gateway-Lock-Token", grant.get("token").asText());
        assertEquals(200, released.statusCode(), "the token works on any replica: " + released.body());
        HttpResponse<String> next = admin(b, "POST", "/admin/lock", "{\"holder\":\"bob\",\"ttl_seconds\":5}");
        assertEquals(201, next.statusCode(), next.body());
        assertEquals(grant.get("fencing").asLong() + 1, MAPPER.readTree(next.body()).get("fencing").asLong(),
                "one fencing counter for every replica");
        HttpResponse<String> forced = admin(a, "DELETE", "/admin/lock?force=true", null);
        assertEquals(200, forced.statusCode(), forced.body());
    }

    @Test
    @Order(2)
    void aRegistrationOnOneReplicaServesOnTheOtherWithinASecond() throws Exception {
        // The first backend a JVM builds loads the pool, probe and REST client classes (about half a second on an
        // idle machine, more on a busy CI host): that is start-up, not propagation, so it is not what is timed.
        assertEquals(201, admin(a, "POST", "/admin/backends", registration("warm-up")).statusCode());
        await(() -> admin(b, "GET", "/admin/backends/warm-up", null).statusCode() == 200, 5000);
        assertEquals(202, admin(a, "DELETE", "/admin/backends/warm-up?deadline_seconds=1", null).statusCode());

        HttpResponse<String> created = admin(a, "POST", "/admin/backends", registration("shared-one"));
        assertEquals(201, created.statusCode(), created.body());
        long seen = await(() -> admin(b, "GET", "/admin/backends/shared-one", null).statusCode() == 200, 1000);
        assertTrue(seen < 1000, "seen on the other replica after " + seen + " ms:\n" + lines(a, "shared-one")
                + lines(b, "shared-one"));
        b.awaitRoute("chat");
        HttpResponse<String> answer = b.client().post("/v1/chat/completions", chat("qwen", false));
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("shared-one", answer.headers().firstValue("x-gateway-provider").orElse(null));

        HttpResponse<String> gone = admin(b, "DELETE", "/admin/backends/shared-one?deadline_seconds=1", null);
        assertEquals(202, gone.statusCode(), gone.body());
        long left = await(() -> admin(a, "GET", "/admin/backends", null).body().contains("shared-one") == false
                || !routable(a, "shared-one"), 1000);
        assertTrue(left < 1000, "left the other replica after " + left + " ms");
    }

    @Test
    @Order(3)
    void theSameNameRegisteredOnBothReplicasAtOnceGivesOne201AndOne409() throws Exception {
        try {
            for (int round = 0; round < 10; round++) {
                String name = "race-" + round;
                CompletableFuture<HttpResponse<String>> onA = CompletableFuture.supplyAsync(
                        () -> admin(a, "POST", "/admin/backends", registration(name)));
                CompletableFuture<HttpResponse<String>> onB = CompletableFuture.supplyAsync(
                        () -> admin(b, "POST", "/admin/backends", registration(name)));
                List<HttpResponse<String>> answers = List.of(onA.get(10, TimeUnit.SECONDS),
                        onB.get(10, TimeUnit.SECONDS));
                List<Integer> statuses = answers.stream().map(HttpResponse::statusCode).sorted().toList();
                assertEquals(List.of(201, 409), statuses, "round " + round + ": " + answers.get(0).body() + " / "
                        + answers.get(1).body());
                HttpResponse<String> lost = answers.get(0).statusCode() == 409 ? answers.get(0) : answers.get(1);
                JsonNode error = MAPPER.readTree(lost.body()).get("error");
                assertTrue(Set.of("registry_changed", "backend_exists").contains(error.get("code").asText()),
                        lost.body());
                assertTrue(error.has("message") && error.has("type") && error.has("param"), lost.body());
                for (PackagedGateway replica : List.of(a, b)) {
                    await(() -> admin(replica, "GET", "/admin/backends/" + name, null).statusCode() == 200, 2000);
                }
            }
        } finally {
            for (int round = 0; round < 10; round++) {
                String name = "race-" + round;
                await(() -> admin(a, "DELETE", "/admin/backends/" + name + "?deadline_seconds=1", null)
                        .statusCode() != 409, 2000);
            }
        }
    }

    @Test
    @Order(3)
    void aRegistrationRefusedForOneReplicasUnwritableAuditIsNeitherInRedisNorOnTheOther() throws Exception {
        Path audit = STATE_DIRS.get("replica-a").resolve("audit.jsonl");
        Path saved = audit.resolveSibling("audit.jsonl.saved");
        Files.move(audit, saved);
        Files.createDirectory(audit);
        StateStore reader = redis.store(vertx, "gateway", "reader", Duration.ofSeconds(2));
        try {
            HttpResponse<String> refused = admin(a, "POST", "/admin/backends", registration("unaudited"));
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("audit_unavailable", MAPPER.readTree(refused.body()).at("/error/code").asText());
            assertEquals(0, reader.call(Command.HEXISTS, reader.key("backends"), "unaudited").toInteger(),
                    "not in Redis");
            Thread.sleep(500);
            assertEquals(404, admin(b, "GET", "/admin/backends/unaudited", null).statusCode(),
                    "not served by the other replica");
        } finally {
            reader.close();
            Files.delete(audit);
            Files.move(saved, audit);
        }
    }

    @Test
    @Order(3)
    void twoReplicasSplitABackendsConcurrencyBudget() throws Exception {
        String budgeted = registration("budgeted").replace("}", ",\"max_concurrency\":5}");
        assertEquals(201, admin(a, "POST", "/admin/backends", budgeted).statusCode());
        await(() -> admin(b, "GET", "/admin/backends/budgeted", null).statusCode() == 200, 1000);
        for (PackagedGateway replica : List.of(a, b)) {
            JsonNode view = MAPPER.readTree(admin(replica, "GET", "/admin/backends/budgeted", null).body());
            assertEquals("fixed", view.get("concurrency").asText(), view.toString());
            assertEquals(3, view.get("maxConcurrency").asInt(), "ceil(5 / 2 replicas) on each: " + view);
        }
        assertEquals(202, admin(a, "DELETE", "/admin/backends/budgeted?deadline_seconds=1", null).statusCode());
    }

    @Test
    @Order(4)
    void twoReplicasRacingForTheLastDollarsOfTheCapCannotBothPass() throws Exception {
        // $0.40/h for 15 h is a warned estimate (over $5, under $20): each one reserves from the $20 daily cap.
        String provision = "{\"provider\":\"vastai\",\"recipe\":\"chat\",\"hours\":15,\"offer_id\":\"101\"}";
        List<CompletableFuture<HttpResponse<String>>> racing = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            PackagedGateway replica = i % 2 == 0 ? a : b;
            racing.add(CompletableFuture.supplyAsync(() -> admin(replica, "POST", "/admin/compute/instances",
                    provision)));
        }
        int passed = 0;
        double estimate = 0;
        for (CompletableFuture<HttpResponse<String>> answer : racing) {
            HttpResponse<String> response = answer.get(60, TimeUnit.SECONDS);
            JsonNode body = MAPPER.readTree(response.body());
            if (response.statusCode() == 201) {
                passed++;
                estimate = body.get("estimate_usd").asDouble();
            } else {
                assertEquals(409, response.statusCode(), response.body());
                assertEquals("daily_cap_exceeded", body.at("/error/code").asText(), response.body());
                estimate = body.at("/error/estimate_usd").asDouble();
            }
        }
        assertTrue(estimate > 5 && estimate <= 20, "a warned estimate: " + estimate);
        int fits = (int) Math.floor(20 / estimate);
        assertEquals(fits, passed, "exactly what fits in the $20 cap passes, whichever replica asked");
        assertEquals(passed, vastai.received("PUT", "/api/v0/asks/").size(), "and only those were launched");
    }

    @Test
    @Order(5)
    void everyReplicasAuditLinesAreInOneSharedStream() throws Exception {
        StateStore reader = redis.store(vertx, "gateway", "reader", Duration.ofSeconds(2));
        try {
            Set<String> replicas = new HashSet<>();
            Set<String> actions = new HashSet<>();
            for (Response entry : reader.call(Command.XRANGE, reader.key("audit"), "-", "+")) {
                Response fields = entry.get(1);
                for (int i = 0; i + 1 < fields.size(); i += 2) {
                    String name = fields.get(i).toString();
                    if (name.equals("replica")) {
                        replicas.add(fields.get(i + 1).toString());
                    } else if (name.equals("line")) {
                        actions.add(MAPPER.readTree(fields.get(i + 1).toString()).get("action").asText());
                    }
                }
            }
            assertEquals(Set.of("replica-a", "replica-b"), replicas);
            assertTrue(actions.containsAll(List.of("lock.acquire", "lock.release", "lock.force_release",
                    "backend.register", "backend.deregister")), actions.toString());
        } finally {
            reader.close();
        }
    }

    @Test
    @Order(6)
    void exactlyOneReplicaLeadsAndTheOtherTakesOverWhenItStops() throws Exception {
        JsonNode onA = MAPPER.readTree(admin(a, "GET", "/admin/replicas", null).body());
        JsonNode onB = MAPPER.readTree(admin(b, "GET", "/admin/replicas", null).body());
        assertNotEquals(onA.get("leader").asBoolean(), onB.get("leader").asBoolean(), onA + " " + onB);
        assertEquals(2, onA.get("replicas").asInt(), onA.toString());
        assertEquals(onA.get("leader_id").asText(), onB.get("leader_id").asText());
        PackagedGateway leader = onA.get("leader").asBoolean() ? a : b;
        PackagedGateway other = leader == a ? b : a;
        leader.terminate(40);
        // The survivor is the next tests' replica whatever this one finds.
        a = other;
        b = null;
        long tookOver = await(() -> MAPPER.readTree(admin(other, "GET", "/admin/replicas", null).body())
                .get("leader").asBoolean(), 2000);
        assertTrue(tookOver <= 2000, "within the leader TTL (2 s): " + tookOver + " ms");
    }

    @Test
    @Order(7)
    void withRedisGoneProxyingGoesOnAndEveryChangeIsRefused() throws Exception {
        PackagedGateway survivor = a;
        assertEquals(201, admin(survivor, "POST", "/admin/backends", registration("kept")).statusCode());
        survivor.awaitRoute("chat");
        redis.stop();

        for (int i = 0; i < 3; i++) {
            HttpResponse<String> answer = survivor.client().post("/v1/chat/completions", chat("qwen", i == 1));
            assertEquals(200, answer.statusCode(), answer.body());
            assertEquals("kept", answer.headers().firstValue("x-gateway-provider").orElse(null));
        }
        for (HttpResponse<String> refused : List.of(
                admin(survivor, "POST", "/admin/lock", "{\"holder\":\"carol\"}"),
                admin(survivor, "POST", "/admin/backends", registration("not-now")),
                admin(survivor, "DELETE", "/admin/backends/kept", null),
                admin(survivor, "POST", "/admin/backends/kept/drain", null))) {
            assertEquals(503, refused.statusCode(), refused.body());
            JsonNode error = MAPPER.readTree(refused.body()).get("error");
            assertEquals("state_store_unavailable", error.get("code").asText());
            assertTrue(error.get("message").asText().contains("redis at " + redis.url()), refused.body());
            assertEquals("5", refused.headers().firstValue("retry-after").orElse(null));
        }
        assertTrue(routable(survivor, "kept"), "nothing changed");
        assertEquals(200, survivor.client().post("/v1/chat/completions", chat("qwen", false)).statusCode());

        // Redis comes back empty (no persistence here): changes are accepted again, and the replica stores the
        // registrations it kept serving instead of reading the empty registry as "all deregistered".
        redis.restart();
        long back = await(() -> admin(survivor, "POST", "/admin/lock", "{\"holder\":\"dave\",\"ttl_seconds\":5}")
                .statusCode() == 201, 5000);
        assertTrue(back < 8000, "changes accepted again after " + back + " ms");
        StateStore reader = redis.store(vertx, "gateway", "reader", Duration.ofSeconds(2));
        try {
            await(() -> reader.call(Command.HEXISTS, reader.key("backends"), "kept").toInteger() == 1, 3000);
        } finally {
            reader.close();
        }
        assertTrue(routable(survivor, "kept"));
    }

    @Test
    @Order(8)
    void aConfiguredRedisThatDoesNotAnswerStopsTheStart() throws Exception {
        int port = PackagedGateway.freePort();
        Process refused = PackagedGateway.launch(Map.of("GATEWAY_STATE_STORE", "redis", "QUARKUS_REDIS_HOSTS",
                "redis://ops:pw-never-shown@127.0.0.1:" + port, "GATEWAY_AUTH", "none",
                "GATEWAY_STATE_DIR", Files.createTempDirectory("refused").toString()));
        assertTrue(refused.waitFor(60, TimeUnit.SECONDS), "a start without its state store must end");
        String output = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, refused.exitValue(), output);
        assertTrue(output.contains("state store redis at redis://127.0.0.1:" + port + " is unreachable"), output);
        assertFalse(output.contains("pw-never-shown"), "no credentials in the message");
    }

    @Test
    @Order(9)
    void computeOnRedisWithoutASealingKeyStopsTheStart() throws Exception {
        Process refused = PackagedGateway.launch(Map.of("GATEWAY_STATE_STORE", "redis", "QUARKUS_REDIS_HOSTS",
                redis.url(), "GATEWAY_AUTH", "none", "VASTAI_ACCOUNT_KEY", VASTAI_KEY, "VASTAI_API_URL", vastai.url(),
                "GATEWAY_STATE_DIR", Files.createTempDirectory("unsealed").toString()));
        assertTrue(refused.waitFor(60, TimeUnit.SECONDS), "a start that would keep vLLM keys in the clear must end");
        String output = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, refused.exitValue(), output);
        assertTrue(output.contains("needs GATEWAY_STATE_KEY_FILE"), output);
        assertFalse(output.contains(VASTAI_KEY), "no key in the message");
    }

    private static Path tempDir(String id) {
        try {
            return Files.createTempDirectory(id);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The log lines of a gateway that mention {@code text}: what a timing failure needs to be read. */
    private static String lines(PackagedGateway gateway, String text) {
        StringBuilder found = new StringBuilder();
        gateway.output().lines().filter(line -> line.contains(text)).forEach(line -> found.append(line).append('\n'));
        return found.toString();
    }

    private static boolean routable(PackagedGateway gateway, String name) throws Exception {
        HttpResponse<String> view = admin(gateway, "GET", "/admin/backends/" + name, null);
        return view.statusCode() == 200 && MAPPER.readTree(view.body()).get("drain").asText().equals("NONE");
    }

    private static String registration(String name) {
        return "{\"name\":\"" + name + "\",\"base_url\":\"" + fake.baseUrl() + "\",\"model\":\"" + MODEL
                + "\",\"routes\":[\"chat\"]}";
    }

    private static HttpResponse<String> admin(PackagedGateway gateway, String method, String path, String body) {
        GatewayClient client = gateway.client();
        return client.call(method, path, body, "authorization", "Bearer " + ADMIN);
    }

    /** Polls until true; returns the milliseconds it took, or fails after {@code millis} plus a margin. */
    private static long await(Check condition, long millis) throws Exception {
        long started = System.nanoTime();
        while (!condition.holds()) {
            if (System.nanoTime() - started > (millis + 3000) * 1_000_000L) {
                throw new AssertionError("not within " + millis + " ms");
            }
            Thread.sleep(20);
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }
}

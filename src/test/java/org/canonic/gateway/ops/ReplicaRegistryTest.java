package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.CoordinationUnavailable;
import org.canonic.gateway.coordination.FileMaintenanceLock;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.coordination.WebhookSettings;
import org.canonic.gateway.coordination.Webhooks;
import org.canonic.gateway.fleet.BackendRegistration;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.FleetException;
import org.canonic.gateway.fleet.LiveBackends;
import org.canonic.gateway.fleet.RedisRegistrationStore;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.ConfigFixture;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two replicas' registries on one real Redis, each applying the other's changes as a gateway does (a subscription
 * that re-reads and applies under the fleet's monitor): racing changes give one success and one 409, and whatever
 * succeeded is what Redis holds afterwards, never reverted by the other replica's stale view.
 */
class ReplicaRegistryTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int ROUNDS = 20;
    private static RedisServer redis;
    private static Vertx vertx;

    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private final List<Fleet> fleets = new ArrayList<>();
    private StateStore storeA;
    private StateStore storeB;
    private Fleet a;
    private Fleet b;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = RedisServer.start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopRedis() throws Exception {
        vertx.close();
        redis.close();
    }

    @BeforeEach
    void twoReplicas() {
        String prefix = "race-" + UUID.randomUUID();
        storeA = redis.store(vertx, prefix, "a", Duration.ofSeconds(2));
        storeB = redis.store(vertx, prefix, "b", Duration.ofSeconds(2));
        a = replica(storeA);
        b = replica(storeB);
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        fleets.forEach(Fleet::close);
    }

    private Fleet replica(StateStore store) {
        Fleet fleet = LiveBackends.fleet(ConfigFixture.with(
                "gateway.routes.main.models", "m",
                "gateway.routes.main.backends", "c",
                "gateway.backends.c.base-url", "http://127.0.0.1:9",
                "gateway.backends.c.model", "m",
                "gateway.backends.c.probe", "none").build(), new SimpleMeterRegistry(),
                new RedisRegistrationStore(store, MAPPER));
        store.subscribe(RedisRegistrationStore.CHANNEL, () -> fleet.syncShared(1000));
        fleets.add(fleet);
        return fleet;
    }

    private static BackendRegistration registration(String name, int port, Integer maxConcurrency)
            throws Exception {
        List<String> problems = new ArrayList<>();
        BackendRegistration registration = BackendRegistration.parse(MAPPER.readTree("{\"name\":\"" + name
                + "\",\"base_url\":\"http://127.0.0.1:" + port + "/v1\",\"model\":\"m\",\"routes\":[\"main\"],"
                + "\"probe\":\"none\""
                + (maxConcurrency == null ? "" : ",\"max_concurrency\":" + maxConcurrency) + "}"), problems);
        assertTrue(problems.isEmpty(), problems.toString());
        return registration;
    }

    /** What Redis holds for a name (null when it holds nothing). */
    private JsonNode stored(String name) throws Exception {
        Response value = storeA.call(Command.HGET, storeA.key("backends"), name);
        return value == null ? null : MAPPER.readTree(value.toString());
    }

    /** Runs both at once; each outcome is "ok" or the refusal's status and code. */
    private List<String> race(Callable<?> first, Callable<?> second) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> outcomes = new ArrayList<>();
        for (Callable<?> change : List.of(first, second)) {
            outcomes.add(pool.submit(() -> {
                go.await();
                try {
                    change.call();
                    return "ok";
                } catch (FleetException e) {
                    return e.status() + " " + e.code();
                }
            }));
        }
        go.countDown();
        List<String> result = new ArrayList<>();
        for (Future<String> outcome : outcomes) {
            result.add(outcome.get());
        }
        return result;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(10);
        }
    }

    /** Both replicas show what Redis holds for {@code name}. */
    private void awaitAgreement(String name) throws Exception {
        JsonNode held = stored(name);
        for (Fleet fleet : List.of(a, b)) {
            await(() -> held == null ? fleet.registration(name).isEmpty()
                    : fleet.registration(name).map(r -> r.toJson().equals(held)).orElse(false),
                    name + " settles on both replicas as Redis holds it: " + held);
        }
    }

    @Test
    void sameNameRegisteredOnBothAtOnceGivesExactlyOneSuccessAndOne409() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            String name = "same-" + round;
            List<String> outcomes = race(() -> a.register(registration(name, 7001, null), null),
                    () -> b.register(registration(name, 7002, null), null));
            assertEquals(1, outcomes.stream().filter("ok"::equals).count(), "round " + round + ": " + outcomes);
            assertTrue(outcomes.stream().filter(o -> !o.equals("ok")).allMatch(o -> o.startsWith("409 ")),
                    "round " + round + ": " + outcomes);
            String winner = outcomes.get(0).equals("ok") ? "7001" : "7002";
            assertTrue(stored(name).get("base_url").asText().contains(winner), "the winner's registration is held");
            awaitAgreement(name);
        }
    }

    @Test
    void aPatchOrADeleteRacingARegistrationIsNeverAnsweredAndThenReverted() throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            int r = round;
            String patched = "patched-" + round;
            String deleted = "deleted-" + round;
            a.register(registration(patched, 7003, 5), null);
            a.register(registration(deleted, 7004, null), null);
            awaitAgreement(patched);
            awaitAgreement(deleted);

            int limit = 10 + round;
            List<String> patch = race(() -> a.change(patched, MAPPER.readTree("{\"max_concurrency\":" + limit + "}"),
                    null), () -> b.register(registration("new-p-" + r, 7005, null), null));
            List<String> delete = race(() -> b.deregister(deleted, 1000, null),
                    () -> a.register(registration("new-d-" + r, 7006, null), null));
            for (String outcome : List.of(patch.get(0), patch.get(1), delete.get(0), delete.get(1))) {
                assertTrue(outcome.equals("ok") || outcome.equals("409 " + RedisRegistrationStore.CONFLICT),
                        "round " + round + ": " + patch + delete);
            }
            Thread.sleep(100); // let any (wrong) late write land before checking
            assertEquals(patch.get(0).equals("ok") ? limit : 5, stored(patched).get("max_concurrency").asInt(),
                    "round " + round + ": " + patch);
            assertEquals(patch.get(1).equals("ok"), stored("new-p-" + round) != null, "round " + round);
            assertEquals(delete.get(0).equals("ok"), stored(deleted) == null, "round " + round + ": " + delete);
            assertEquals(delete.get(1).equals("ok"), stored("new-d-" + round) != null, "round " + round);
            for (String name : List.of(patched, deleted, "new-p-" + round, "new-d-" + round)) {
                awaitAgreement(name);
            }
        }
    }

    @Test
    void aRegistrationRefusedForAnUnwritableAuditLogIsNotInRedis(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        StateDirectory state = new StateDirectory(dir);
        AuditLog audit = new AuditLog(state, MAPPER, storeA);
        AuditedChange audited = new AuditedChange();
        audited.audit = audit;
        audited.mapper = MAPPER;
        audited.lock = new FileMaintenanceLock(state, audit, new Webhooks(vertx, WebhookSettings.of(List.of(), null),
                new SimpleMeterRegistry(), MAPPER), vertx, MAPPER, Duration.ofMinutes(15), Duration.ofHours(24));
        Files.createDirectory(audit.file()); // replica a's audit log cannot be written
        BackendRegistration body = registration("audited-1", 7007, null);
        CoordinationUnavailable refused = assertThrows(CoordinationUnavailable.class, () -> audited.make(
                "backend.register", "audited-1", "ci", null, null, fencing -> {
                    a.register(body, fencing);
                    return jakarta.ws.rs.core.Response.status(201).build();
                }, e -> null, after -> "audited-1"));
        assertEquals(CoordinationUnavailable.AUDIT, refused.code());
        assertNull(stored("audited-1"), "not in Redis");
        assertTrue(a.registration("audited-1").isEmpty());
        Thread.sleep(200);
        assertTrue(b.registration("audited-1").isEmpty(), "not served by the other replica");
        assertFalse(b.find("audited-1").isPresent());
    }
}

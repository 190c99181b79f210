package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The maintenance lock of two replicas on one real Redis: one holder, one fencing counter, one guarded step. */
class RedisMaintenanceLockTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static RedisServer redis;
    private static Vertx vertx;
    private static Webhooks noWebhooks;

    @TempDir
    Path dir;
    private String prefix;
    private AuditLog audit;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        vertx = Vertx.vertx();
        noWebhooks = new Webhooks(vertx, WebhookSettings.of(List.of(), null), new SimpleMeterRegistry(), MAPPER);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close();
        redis.close();
    }

    @BeforeEach
    void fresh() {
        prefix = "lock-" + UUID.randomUUID();
        audit = new AuditLog(new StateDirectory(dir), MAPPER);
    }

    private MaintenanceLock replica(String id) {
        StateStore store = redis.store(vertx, prefix, id, Duration.ofSeconds(2));
        return new RedisMaintenanceLock(store, audit, noWebhooks, vertx, MAPPER, Duration.ofMinutes(15),
                Duration.ofHours(1));
    }

    @Test
    void aFencingCounterAtTheTopOfItsRangeRefusesInsteadOfOverflowing() {
        StateStore store = redis.store(vertx, prefix, "top", Duration.ofSeconds(2));
        MaintenanceLock lock = new RedisMaintenanceLock(store, audit, noWebhooks, vertx, MAPPER, Duration.ofMinutes(15),
                Duration.ofHours(24));
        store.call(io.vertx.redis.client.Command.SET, store.key("lock:fencing"), MaintenanceLock.MAX_FENCING - 1);
        MaintenanceLock.Grant last = lock.acquire("a", null, 60L, "ci");
        assertEquals(MaintenanceLock.MAX_FENCING, last.fencing());
        lock.release(last.token(), "ci");
        CoordinationUnavailable exhausted = assertThrows(CoordinationUnavailable.class,
                () -> lock.acquire("b", null, 60L, "ci"));
        assertEquals(CoordinationUnavailable.STATE, exhausted.code());
        assertEquals(MaintenanceLock.MAX_FENCING, lock.status().fencing(), "never wrapped, never negative");
        assertFalse(lock.status().held());
    }

    @Test
    void oneHolderAndOneFencingCounterForEveryReplica() {
        MaintenanceLock a = replica("a");
        MaintenanceLock b = replica("b");
        MaintenanceLock.Grant grant = a.acquire("alice", "swap", 60L, "ops");
        Locked refused = assertThrows(Locked.class, () -> b.acquire("bob", null, null, "ops"));
        assertTrue(refused.secondsLeft() > 55, "Retry-After counts down the shared lease");
        assertThrows(Locked.class, () -> b.guarded(null, () -> "changed"), "a change without the token waits");
        assertThrows(Locked.class, () -> b.guarded("gwlock_not-the-token", () -> "changed"));
        Long used = b.guarded(grant.token(), (MaintenanceLock.Guard guard) -> guard.fencing());
        assertEquals(Long.valueOf(grant.fencing()), used, "the holder's token works on any replica");
        assertThrows(Locked.class, () -> b.release("gwlock_wrong", "ops"));
        assertThrows(LockRequestException.class, () -> b.renew(grant.token(), 0L, "ops"));

        MaintenanceLock.Status renewed = b.renew(grant.token(), 120L, "ops");
        assertTrue(renewed.secondsLeft() > 115, "renewed from another replica: " + renewed);
        assertEquals("alice", a.status().holder());
        assertEquals(grant.fencing(), b.release(grant.token(), "ops").fencing());
        assertFalse(a.status().held());
        assertEquals(409, assertThrows(LockRequestException.class, () -> a.forceRelease("ops")).status());

        MaintenanceLock.Grant next = b.acquire("bob", null, null, "ops");
        assertEquals(grant.fencing() + 1, next.fencing());
        assertEquals("bob", a.forceRelease("carol").holder());
        Long none = a.guarded(null, (MaintenanceLock.Guard guard) -> guard.fencing());
        assertNull(none, "no lock: changes pass without a fencing number");
    }

    @Test
    void anAcquisitionWaitsForAChangeInProgressOnAnotherReplica() throws Exception {
        MaintenanceLock a = replica("a");
        MaintenanceLock b = replica("b");
        CountDownLatch changing = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        CompletableFuture<String> change = CompletableFuture.supplyAsync(() -> a.guarded(null, () -> {
            changing.countDown();
            await(finish);
            return "done";
        }));
        assertTrue(changing.await(5, TimeUnit.SECONDS));
        CompletableFuture<MaintenanceLock.Grant> acquisition = CompletableFuture.supplyAsync(
                () -> b.acquire("bob", null, 30L, "ops"));
        Thread.sleep(300);
        assertFalse(acquisition.isDone(), "no lock is granted in the middle of a change");
        finish.countDown();
        assertEquals("done", change.get(5, TimeUnit.SECONDS));
        assertEquals("bob", acquisition.get(5, TimeUnit.SECONDS).holder());
    }

    @Test
    void fencingNumbersKeepGrowingWhenRedisComesBackEmpty() throws Exception {
        RedisServer own = RedisServer.start();
        try {
            StateStore store = own.store(vertx, prefix, "a", Duration.ofSeconds(1));
            MaintenanceLock lock = new RedisMaintenanceLock(store, audit, noWebhooks, vertx, MAPPER,
                    Duration.ofMinutes(15), Duration.ofHours(1));
            for (int i = 0; i < 3; i++) {
                lock.release(lock.acquire("alice", null, null, "ops").token(), "ops");
            }
            own.stop();
            assertThrows(StateStoreUnavailable.class, () -> lock.acquire("alice", null, null, "ops"),
                    "without Redis nothing is granted");
            own.restart();
            long fencing = awaitGrant(lock).fencing();
            assertEquals(4, fencing, "not 1: a stale holder must never share a number with a new one");
        } finally {
            own.close();
        }
    }

    @Test
    void aLeaseThatEndsByItselfIsAnnouncedOnceWhicheverReplicasWatchedIt() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start(vertx, WebhookReceiver.Mode.OK)) {
            Webhooks hooks = new Webhooks(vertx, WebhookSettings.of(List.of(receiver.url()), null),
                    new SimpleMeterRegistry(), MAPPER);
            List<MaintenanceLock> replicas = new java.util.ArrayList<>();
            for (String id : List.of("a", "b")) {
                StateStore store = redis.store(vertx, prefix, id, Duration.ofSeconds(2));
                replicas.add(new RedisMaintenanceLock(store, audit, hooks, vertx, MAPPER, Duration.ofMinutes(15),
                        Duration.ofHours(1)));
            }
            MaintenanceLock.Grant grant = replicas.get(0).acquire("alice", null, 1L, "ops");
            replicas.get(1).renew(grant.token(), 1L, "ops");
            Thread.sleep(2500);
            List<String> types = receiver.deliveries().stream().map(d -> d.json().path("type").asText()).toList();
            assertEquals(1, types.stream().filter(EventTypes.LOCK_EXPIRED::equals).count(), types.toString());
            assertFalse(replicas.get(1).status().held());
        }
    }

    @Test
    void aChangeThatCannotBeAuditedIsUndone() throws Exception {
        Path blocked = Files.createDirectories(dir.resolve("blocked"));
        Files.createDirectories(blocked.resolve(AuditLog.FILE));
        audit = new AuditLog(new StateDirectory(blocked), MAPPER);
        MaintenanceLock lock = replica("a");
        assertThrows(CoordinationUnavailable.class, () -> lock.acquire("alice", null, null, "ops"));
        assertFalse(lock.status().held(), "the grant was taken back");
        JsonNode shown = lock.toJson(lock.status());
        assertFalse(shown.get("held").asBoolean());
    }

    private static MaintenanceLock.Grant awaitGrant(MaintenanceLock lock) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        while (true) {
            try {
                return lock.acquire("alice", null, null, "ops");
            } catch (StateStoreUnavailable e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

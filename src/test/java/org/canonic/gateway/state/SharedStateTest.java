package org.canonic.gateway.state;

import io.vertx.core.Vertx;
import org.canonic.gateway.compute.RedisSpendLedger;
import org.canonic.gateway.compute.SpendLedger;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.testing.PackagedGateway;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two replicas' state stores in one JVM against a real Redis: the pieces that must hold across replicas, raced and
 * stopped directly (the packaged jars prove the same over HTTP in {@code ReplicasIT}).
 */
class SharedStateTest {

    private static RedisServer redis;
    private static Vertx vertx;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get();
        redis.close();
    }

    private static StateStore store(String prefix, String replica) {
        return redis.store(vertx, prefix, replica, Duration.ofSeconds(2));
    }

    @Test
    void aReservationIsSettledByAnotherReplicaOrAfterARestartOnlyOnce() {
        String prefix = "spend-" + UUID.randomUUID();
        LocalDate day = LocalDate.of(2026, 12, 2);
        SpendLedger.Reservation held = new RedisSpendLedger(store(prefix, "a")).reserve("mg-chat-gw-0000beef", day, 500, 10_000)
                .orElseThrow();
        // The replica restarted (or the leader settles an instance another replica launched).
        SpendLedger restarted = new RedisSpendLedger(store(prefix, "a"));
        restarted.settle(held, 100);
        assertEquals(100, restarted.committed(day), "settled with the real spend, not kept at the estimate");
        new RedisSpendLedger(store(prefix, "b")).settle(held, 100);
        assertEquals(100, restarted.committed(day), "settled once");
    }

    @Test
    void twoReplicasRacingForTheLastDollarsOfTheCapCannotBothGetThem() throws Exception {
        String prefix = "spend-" + UUID.randomUUID();
        List<SpendLedger> ledgers = List.of(new RedisSpendLedger(store(prefix, "a")),
                new RedisSpendLedger(store(prefix, "b")));
        LocalDate day = LocalDate.of(2026, 12, 1);
        long cap = 10_000;
        ledgers.get(0).reserveOver("mg-chat-gw-00000000", day, 9_000);
        // $10 left; 40 launches of $0.70 from two replicas at once: 14 fit (9.80), the rest must be refused.
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Optional<SpendLedger.Reservation>>> tries = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            SpendLedger ledger = ledgers.get(i % 2);
            String instance = "mg-chat-gw-" + (10_000_000 + i);
            tries.add(pool.submit(() -> {
                go.await();
                return ledger.reserve(instance, day, 70, cap);
            }));
        }
        go.countDown();
        int granted = 0;
        for (Future<Optional<SpendLedger.Reservation>> attempt : tries) {
            granted += attempt.get().isPresent() ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(14, granted);
        assertEquals(9_980, ledgers.get(1).committed(day), "both replicas see one total, never above the cap");
        assertTrue(ledgers.get(0).reserve("mg-chat-gw-0000000a", day, 21, cap).isEmpty());
        SpendLedger.Reservation last = ledgers.get(1).reserve("mg-chat-gw-0000000b", day, 20, cap).orElseThrow();
        assertEquals(cap, ledgers.get(0).committed(day));
        ledgers.get(1).release(last);
        ledgers.get(1).release(last);
        assertEquals(9_980, ledgers.get(0).committed(day), "a release counts once");
    }

    @Test
    void exactlyOneReplicaLeadsAndAnotherTakesOverWhenItStops() throws Exception {
        String prefix = "leader-" + UUID.randomUUID();
        Replicas first = new Replicas(store(prefix, "first"), vertx, Duration.ofSeconds(1));
        Replicas second = new Replicas(store(prefix, "second"), vertx, Duration.ofSeconds(1));
        assertTrue(first.leader() ^ second.leader(), "one leader, not two, not none");
        awaitTrue(() -> first.replicas() == 2 && second.replicas() == 2, 2000);
        assertEquals(3, first.share(5), "half of a limit of 5, rounded up");
        assertEquals("first", second.leaderId());
        Replicas leader = first.leader() ? first : second;
        Replicas other = leader == first ? second : first;
        leader.stop(null);
        awaitTrue(other::leader, 1500);
        assertFalse(leader.leader());
        awaitTrue(() -> other.replicas() == 1, 1500);
        other.stop(null);
    }

    @Test
    void aHeartbeatInFlightWhenTheLeaderStopsDoesNotClaimTheKeyAgain() throws Exception {
        String prefix = "resign-" + UUID.randomUUID();
        StateStore leaderStore = store(prefix, "leaving");
        Replicas leader = new Replicas(leaderStore, vertx, Duration.ofSeconds(1));
        assertTrue(leader.leader());
        // Redis holds every command for 800 ms: the leader's next heartbeat (every 333 ms) is caught mid-flight.
        StateStore pauser = store(prefix, "pauser");
        pauser.call(io.vertx.redis.client.Command.CLIENT, "PAUSE", "800");
        Thread.sleep(450);
        leader.stop(null);
        Thread.sleep(200); // what a heartbeat still running would do, it has done by now
        assertEquals(null, leaderStore.call(io.vertx.redis.client.Command.GET, leaderStore.key("leader")),
                "the leader key stays given up");
        long again = System.nanoTime();
        leader.stop(null);
        assertTrue(System.nanoTime() - again < 1_000_000_000L, "a second stop does not wait for held heartbeats");
        pauser.close();
        leaderStore.close();
    }

    @Test
    void aReplicaThatCannotReachRedisStopsLeadingAndChangesFailClosed() throws Exception {
        RedisServer own = RedisServer.start();
        try {
            StateStore store = own.store(vertx, "down", "alone", Duration.ofMillis(500));
            Replicas alone = new Replicas(store, vertx, Duration.ofSeconds(1));
            assertTrue(alone.leader());
            own.stop();
            StateStoreUnavailable refused = assertThrows(StateStoreUnavailable.class,
                    () -> new RedisSpendLedger(store).committed(LocalDate.now()));
            assertTrue(refused.getMessage().contains("redis at " + own.url()), refused.getMessage());
            awaitTrue(() -> !alone.leader(), 1500);
            assertFalse(alone.reachable());
            alone.stop(null);
        } finally {
            own.close();
        }
    }

    @Test
    void anErrorReplyIsABugNotAnOutage() {
        StateStore store = store("errors-" + UUID.randomUUID(), "a");
        store.call(io.vertx.redis.client.Command.SET, store.key("text"), "not a number");
        IllegalStateException bug = assertThrows(IllegalStateException.class,
                () -> store.call(io.vertx.redis.client.Command.INCR, store.key("text")));
        assertEquals(IllegalStateException.class, bug.getClass(), "not StateStoreUnavailable: Redis did answer");
        assertTrue(bug.getMessage().contains("not an integer"), bug.getMessage());
    }

    @Test
    void aLeaderThatDiesLosesItsClaimWhenTheKeyExpires() throws Exception {
        String prefix = "dies-" + UUID.randomUUID();
        StateStore doomed = store(prefix, "doomed");
        Replicas first = new Replicas(doomed, vertx, Duration.ofSeconds(1));
        Replicas second = new Replicas(store(prefix, "heir"), vertx, Duration.ofSeconds(1));
        assertTrue(first.leader());
        long died = System.nanoTime();
        doomed.close();
        // No resignation: the heir must wait for the key to expire (at most the TTL after the last renewal).
        awaitTrue(second::leader, 2500);
        long tookMs = (System.nanoTime() - died) / 1_000_000;
        assertTrue(tookMs >= 300, "it waited for the expiry, not " + tookMs + " ms");
        assertFalse(first.leader(), "a replica that cannot renew stops counting itself leader");
        first.stop(null);
        second.stop(null);
    }

    @Test
    void anUnreachableRedisStopsTheStartWithoutShowingItsPassword() throws Exception {
        int port = PackagedGateway.freePort();
        InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class,
                () -> new StateStore(vertx, StateStoreConfig.Kind.REDIS,
                        Optional.of("redis://ops:s3cret-pw@127.0.0.1:" + port), Duration.ofSeconds(1), "x", "r", 10));
        String message = String.join("\n", refused.problems());
        assertTrue(message.contains("state store redis at redis://127.0.0.1:" + port + " is unreachable"), message);
        assertFalse(message.contains("s3cret-pw"), message);
        InvalidConfigurationException missing = assertThrows(InvalidConfigurationException.class,
                () -> new StateStore(vertx, StateStoreConfig.Kind.REDIS, Optional.empty(), Duration.ofSeconds(1),
                        "x", "r", 10));
        assertTrue(String.join("", missing.problems()).contains("quarkus.redis.hosts"), missing.problems().toString());
        assertThrows(InvalidConfigurationException.class, () -> new Replicas(new StateStore(vertx,
                StateStoreConfig.Kind.EMBEDDED, Optional.empty(), Duration.ofSeconds(1), "x", "r", 10), vertx,
                Duration.ofMillis(100)), "a leader TTL under 1s is refused");
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, long millis) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("not within " + millis + " ms");
            }
            Thread.sleep(20);
        }
    }
}

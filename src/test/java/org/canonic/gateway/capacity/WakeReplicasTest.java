package org.canonic.gateway.capacity;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeHarness;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Wake on demand across two replicas sharing a real Redis: each has its own compute service (state directory,
 * tracked file) sharing the tracked stream, the spend ledger and the instance keys, and its own capacity controller;
 * A leads, B does not. Requests waking the route on either replica launch one instance, and only the leader launches.
 */
@QuarkusTest
class WakeReplicasTest {

    private final ExecutorService workers = Executors.newFixedThreadPool(8);
    private final ExecutorService clients = Executors.newFixedThreadPool(50);
    private final List<ComputeHarness> harnesses = new ArrayList<>();
    private RedisServer redis;
    private Vertx vertx;
    private FakeVastAi vast;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start();
        vertx = Vertx.vertx();
        vast = FakeBackends.vastai();
        vast.reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        vast.createdStatus = "loading"; // never serves during the test: the wake stays under way
    }

    @AfterEach
    void stop() throws Exception {
        for (ComputeHarness h : harnesses) {
            for (TrackedInstance t : h.service.all()) {
                if (t.live() && t.state() != TrackedInstance.State.PROVISIONING) {
                    try {
                        h.service.handover().destroy(t.name(), true, 1000, "test", null);
                    } catch (ComputeException e) {
                        // the other replica destroyed it
                    }
                }
            }
            h.close();
        }
        workers.shutdownNow();
        clients.shutdownNow();
        vertx.close();
        redis.close();
        vast.reset();
    }

    private record Replica(ComputeHarness compute, CapacityController controller, CapacityWake wake, Path dir) {

        /** Whether this replica itself wrote a launch (each replica's tracked file holds only its own actions). */
        boolean launched() throws java.io.IOException {
            Path file = dir.resolve(org.canonic.gateway.compute.TrackedActions.FILE);
            return Files.exists(file) && Files.readString(file).contains("\"provision\"");
        }
    }

    private Replica replica(String prefix, String id, boolean leads, Path stateKey) throws Exception {
        StateStore store = redis.store(vertx, prefix, id, Duration.ofSeconds(2));
        Path dir = Files.createTempDirectory("wake-" + id);
        // Recipe main joins a route nothing serves (route main has the test gateway's own backends).
        ComputeHarness h = ComputeHarness.shared(dir, store, stateKey, "gateway.compute.recipes.main.route", "cold");
        harnesses.add(h);
        Fleet fleet = Arc.container().instance(Fleet.class).get();
        CapacityPolicy policy = new CapacityPolicy("main", 0, 2, List.of("vastai"), "RTX 4090", 20.0, 0.50, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(60),
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(10));
        SharedDemand shared = SharedDemand.of(store);
        CapacityController controller = new CapacityController(List.of(policy), h.service, fleet, Clock.systemUTC(),
                () -> leads, (type, data) -> { }, new SimpleMeterRegistry(), shared, Duration.ofSeconds(300));
        if (leads) {
            store.subscribe(SharedDemand.CHANNEL, controller::takeSharedDemands);
        }
        return new Replica(h, controller, new CapacityWake(controller, workers, () -> fleet.snapshot().version()),
                dir);
    }

    private int creates() {
        return vast.received("PUT", "/api/v0/asks/").size();
    }

    /** {@code count} requests at once, spread over {@code replicas}, each asking to wake route cold. */
    private List<OptionalLong> burst(int count, Replica... replicas) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<OptionalLong>> answers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Replica r = replicas[i % replicas.length];
            answers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return r.wake().wake("cold").toCompletableFuture().join();
            }, clients));
        }
        go.countDown();
        List<OptionalLong> all = new ArrayList<>();
        for (CompletableFuture<OptionalLong> a : answers) {
            all.add(a.get());
        }
        return all;
    }

    private void awaitCreates(int n) throws InterruptedException {
        long until = System.currentTimeMillis() + 10_000;
        while (creates() < n && System.currentTimeMillis() < until) {
            Thread.sleep(50);
        }
    }

    @Test
    void requestsWakingTheRouteOnBothReplicasLaunchExactlyOnceAndOnlyTheLeaderLaunches() throws Exception {
        String prefix = "wake-" + UUID.randomUUID();
        Path stateKey = Files.createTempFile("state-key", ".txt");
        Files.writeString(stateKey, "a-state-key-of-at-least-32-random-bytes-0123456789");
        Replica a = replica(prefix, "a", true, stateKey);
        Replica b = replica(prefix, "b", false, stateKey);

        // Fifty requests on the follower alone: it cannot launch, so it passes the demand to the leader.
        for (OptionalLong answer : burst(50, b)) {
            assertTrue(answer.isPresent(), "capacity is starting");
            assertTrue(answer.getAsLong() > 0 && answer.getAsLong() <= 300, "Retry-After " + answer);
        }
        awaitCreates(1);
        Thread.sleep(500);
        assertEquals(1, creates(), "the leader launched once for the follower's demand");
        List<TrackedInstance> launchedByA = a.compute().service.all().stream().filter(TrackedInstance::live).toList();
        assertEquals(1, launchedByA.size());
        assertTrue(a.launched() && !b.launched(), "launched by the leader, not by the follower");

        // Fifty more on both replicas while it starts: both know it is under way (the shared tracked stream).
        for (OptionalLong answer : burst(50, a, b)) {
            assertTrue(answer.isPresent() && answer.getAsLong() <= 300, "still starting: " + answer);
        }
        Thread.sleep(500);
        a.controller().tick();
        assertEquals(1, creates(), "one launch for a hundred requests on two replicas");
        assertEquals(1, b.compute().service.all().stream().filter(TrackedInstance::live).count(),
                "the follower sees the leader's instance");
    }

    @Test
    void concurrentRequestsOnBothReplicasAtZeroLaunchOnce() throws Exception {
        String prefix = "wake-" + UUID.randomUUID();
        Path stateKey = Files.createTempFile("state-key", ".txt");
        Files.writeString(stateKey, "a-state-key-of-at-least-32-random-bytes-0123456789");
        Replica a = replica(prefix, "a", true, stateKey);
        Replica b = replica(prefix, "b", false, stateKey);

        for (OptionalLong answer : burst(50, a, b)) {
            assertTrue(answer.isPresent(), "capacity is starting");
        }
        awaitCreates(1);
        Thread.sleep(1000);
        a.controller().tick();
        b.controller().tick();
        assertEquals(1, creates(), "exactly one launch across both replicas");
        assertTrue(a.launched() && !b.launched(), "by the leader");
    }
}

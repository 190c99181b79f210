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
import org.canonic.gateway.schedule.ScheduleFixtures.MovableClock;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreConfig;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Leader failover in the middle of a decision: two replicas' compute services and controllers on one real Redis, the
 * leader's create still in flight at the provider when it loses the leadership. The new leader learns of the launch
 * from the shared tracked stream (the intent is appended before the provider is called) and launches nothing more.
 */
@QuarkusTest
class LeaderFailoverTest {

    private RedisServer redis;
    private Vertx vertx;
    private FakeVastAi vast;
    private FakeVllm machine;
    private ComputeHarness a;
    private ComputeHarness b;

    @BeforeEach
    void start() throws Exception {
        redis = RedisServer.start();
        vertx = Vertx.vertx();
        vast = FakeBackends.vastai();
        vast.reset();
        FakeBackends.runpod().reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL);
        vast.instancePort = machine.port();
        machine.metrics(FakeVllm.vllmMetrics(0, 0, 0.1, 0, 0));
        Path secret = Files.createTempFile("state-key", ".txt");
        Files.writeString(secret, "a-state-key-of-at-least-32-random-bytes-0123456789");
        String prefix = "failover-" + UUID.randomUUID();
        a = ComputeHarness.shared(Files.createTempDirectory("replica-a"), store(prefix, "a"), config(secret));
        b = ComputeHarness.shared(Files.createTempDirectory("replica-b"), store(prefix, "b"), config(secret));
    }

    @AfterEach
    void stop() throws Exception {
        for (TrackedInstance t : a.service.all()) {
            if (t.live()) {
                try {
                    a.service.handover().destroy(t.name(), true, 1000, "test", null);
                } catch (ComputeException e) {
                    // already going
                }
            }
        }
        a.close();
        b.close();
        machine.close();
        vast.reset();
        vertx.close().toCompletionStage().toCompletableFuture().get();
        redis.close();
    }

    private StateStore store(String prefix, String replica) {
        return redis.store(vertx, prefix, replica, Duration.ofSeconds(2));
    }

    private static StateStoreConfig config(Path secret) {
        return new StateStoreConfig() {
            public Kind store() {
                return Kind.REDIS;
            }

            public Optional<String> keyFile() {
                return Optional.of(secret.toString());
            }

            public Duration redisTimeout() {
                return Duration.ofSeconds(2);
            }

            public Duration leaderTtl() {
                return Duration.ofSeconds(15);
            }

            public String redisKeyPrefix() {
                return "unused";
            }

            public Optional<String> replicaId() {
                return Optional.empty();
            }

            public long streamMaxLength() {
                return 1000;
            }
        };
    }

    private int creates() {
        return vast.received("PUT", "/api/v0/asks/").size();
    }

    @Test
    void aNewLeaderDoesNotLaunchAgainWhileTheOldLeadersCreateIsInFlight() throws Exception {
        MovableClock clock = new MovableClock(Instant.parse("2026-12-07T10:00:00Z"));
        AtomicBoolean aLeads = new AtomicBoolean(true);
        AtomicBoolean bLeads = new AtomicBoolean(false);
        CapacityPolicy policy = new CapacityPolicy("main", 1, 2, List.of("vastai"), null, null, null, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ZERO, Duration.ZERO,
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(5));
        Fleet fleet = Arc.container().instance(Fleet.class).get();
        CapacityController onA = new CapacityController(List.of(policy), a.service, fleet, clock, aLeads::get,
                (type, data) -> { }, new SimpleMeterRegistry());
        CapacityController onB = new CapacityController(List.of(policy), b.service, fleet, clock, bLeads::get,
                (type, data) -> { }, new SimpleMeterRegistry());

        // The provider takes 1.5 s to answer the create (within the 2 s provider timeout).
        vast.createAnswerDelayMs = 1500;
        Thread leader = new Thread(onA::tick);
        leader.start();
        long until = System.currentTimeMillis() + 5000;
        while (creates() == 0 && System.currentTimeMillis() < until) {
            Thread.sleep(20);
        }
        assertEquals(1, creates(), "the old leader's create reached the provider");
        // Mid-create: A loses the leadership, B takes over and decides at once.
        aLeads.set(false);
        bLeads.set(true);
        onB.tick();
        assertEquals(1, creates(), "the new leader saw the launch in flight: " + onB.view());
        leader.join(10_000);
        clock.advance(Duration.ofMinutes(10));
        onB.tick();
        onA.tick();
        assertEquals(1, creates(), "nor after the create answered: " + onB.view());
        assertEquals(1, b.service.all().stream().filter(TrackedInstance::live).count(), "B knows the one instance");
    }
}

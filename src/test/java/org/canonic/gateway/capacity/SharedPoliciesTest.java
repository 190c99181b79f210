package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Policies set through the admin API: shared by two replicas on a real Redis (each shows what the other set, the
 * leader holds what a follower set, racing partial changes are both kept), and kept across a restart in the state
 * directory.
 */
class SharedPoliciesTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static RedisServer redis;
    private static Vertx vertx;

    @TempDir
    Path dir;

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

    /** A replica's controller (configured with {@code configured}) and its shared policies. */
    private record Replica(CapacityController controller, SharedPolicies shared) {
    }

    private static Replica replica(CapacityPolicyStore store, List<CapacityPolicy> configured) {
        // Only the policies are looked at here: no provider, fleet or tick is needed.
        CapacityController controller = new CapacityController(configured, null, null, Clock.systemUTC(), () -> false,
                (type, data) -> { }, new SimpleMeterRegistry());
        return new Replica(controller, new SharedPolicies(store, controller, policy -> policy.problems(null,
                Set.of("vastai", "runpod"), Set.of("main", "other"), 720)));
    }

    private static JsonNode json(String text) throws Exception {
        return MAPPER.readTree(text);
    }

    private static StateStore redisStore(String prefix, String replica) {
        return redis.store(vertx, prefix, replica, Duration.ofSeconds(2));
    }

    @Test
    void twoReplicasOnRedisShowTheSamePoliciesAndTheLeaderHoldsWhatAFollowerSet() throws Exception {
        String prefix = "capacity-" + UUID.randomUUID();
        Replica follower = replica(new RedisCapacityPolicyStore(redisStore(prefix, "a"), MAPPER), List.of());
        Replica leader = replica(new RedisCapacityPolicyStore(redisStore(prefix, "b"), MAPPER), List.of());

        CapacityPolicy set = follower.shared().put("main", json("{\"max_instances\":3,\"min_instances\":1,"
                + "\"windows\":[{\"days\":\"mon-fri\",\"from\":\"08:00\",\"to\":\"18:00\",\"zone\":\"Europe/Berlin\","
                + "\"min_instances\":2}]}"));
        assertTrue(leader.controller().policy("main").isEmpty(), "not applied before the leader looks");
        leader.shared().sync();
        assertEquals(set, leader.controller().policy("main").orElseThrow(), "the same policy, windows included");
        assertEquals(follower.controller().policy("main").orElseThrow().view(),
                leader.controller().policy("main").orElseThrow().view(), "shown the same");

        // A change on the leader's side is built on what the follower stored, and a removal is seen by both.
        leader.shared().put("main", json("{\"max_instances\":4}"));
        follower.shared().sync();
        CapacityPolicy now = follower.controller().policy("main").orElseThrow();
        assertEquals(4, now.maxInstances());
        assertEquals(1, now.minInstances(), "fields left out kept the follower's value");
        assertEquals(1, now.windows().size());
        assertTrue(follower.shared().remove("main").isPresent());
        leader.shared().sync();
        assertTrue(leader.controller().policy("main").isEmpty());
        assertTrue(leader.shared().remove("main").isEmpty(), "nothing left to remove");

        // Two partial changes at once on two replicas: both land, neither is written over the other's.
        follower.shared().put("other", json("{\"max_instances\":5}"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 10; round++) {
                int r = round;
                Future<?> one = pool.submit(() -> follower.shared().put("other",
                        MAPPER.createObjectNode().put("min_instances", r % 5)));
                Future<?> two = pool.submit(() -> leader.shared().put("other",
                        MAPPER.createObjectNode().put("planned_hours", 1 + r)));
                one.get();
                two.get();
                leader.shared().sync();
                follower.shared().sync();
                CapacityPolicy a = follower.controller().policy("other").orElseThrow();
                assertEquals(a, leader.controller().policy("other").orElseThrow());
                assertEquals(r % 5, a.minInstances(), "round " + r);
                assertEquals(1 + r, a.plannedHours(), "round " + r);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void withFilesThePoliciesSurviveARestartAndARemovedConfiguredPolicyStaysRemoved() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        CapacityPolicy configured = CapacityPolicy.defaults("other");
        Replica first = replica(new FileCapacityPolicyStore(new StateDirectory(state), MAPPER), List.of(configured));
        first.shared().sync();
        CapacityPolicy set = first.shared().put("main", json("{\"max_instances\":2,\"windows\":[{\"days\":\"daily\","
                + "\"from\":\"22:00\",\"to\":\"02:00\",\"zone\":\"America/New_York\",\"min_instances\":1}]}"));
        assertTrue(first.shared().remove("other").isPresent());

        Replica restarted = replica(new FileCapacityPolicyStore(new StateDirectory(state), MAPPER),
                List.of(configured));
        assertTrue(restarted.controller().policy("other").isPresent(), "configured, before the store is applied");
        restarted.shared().sync();
        assertEquals(set, restarted.controller().policy("main").orElseThrow());
        assertFalse(restarted.controller().policy("other").isPresent(), "removed through the API: stays removed");

        // Bad input is refused before anything is stored.
        ComputeException refused = assertThrows(ComputeException.class,
                () -> restarted.shared().put("main", json("{\"windows\":[{\"days\":\"daily\"}]}")));
        assertEquals("invalid_capacity_policy", refused.code());
        assertEquals(set, replica(new FileCapacityPolicyStore(new StateDirectory(state), MAPPER), List.of())
                .shared().put("main", json("{}")), "what is stored is the policy set before");

        Files.writeString(state.resolve(FileCapacityPolicyStore.FILE), "{broken");
        assertThrows(org.canonic.gateway.config.InvalidConfigurationException.class,
                () -> new FileCapacityPolicyStore(new StateDirectory(state), MAPPER), "a damaged file stops the start");
    }
}

package org.canonic.gateway.usage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two replicas on one real redis-server share the usage aggregate: what each counted, read from either, is what one
 * book fed every request says, the cost split included; and what waited while Redis was away is counted once when it
 * is back.
 */
class SharedUsageTest {

    private static final long DAY_MS = 86_400_000L;
    private static final long HOUR_MS = 3_600_000L;
    private static final ObjectMapper JSON = new ObjectMapper();
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
        redis.stop();
    }

    private static UsageEvent event(long at, String key, String backend, String outcome, long in, long out, double ttft) {
        return new UsageEvent(at, key, "main", backend, "main-model", outcome, in, out, ttft);
    }

    @Test
    void whatEachReplicaCountedIsReadFromEitherAsOneBookWouldSayIt() throws Exception {
        long day = System.currentTimeMillis() / DAY_MS * DAY_MS;
        StateStore storeA = redis.store(vertx, "usage-a", "replica-a", Duration.ofSeconds(2));
        StateStore storeB = redis.store(vertx, "usage-a", "replica-b", Duration.ofSeconds(2));
        UsageBook all = new UsageBook(7 * DAY_MS);
        List<UsageEvent> onA = new ArrayList<>();
        List<UsageEvent> onB = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            UsageEvent e = event(day + (i % 5) * HOUR_MS + i, "k" + (i % 3), i % 2 == 0 ? "mg-inst" : "beta",
                    i % 7 == 0 ? "failed" : "completed", 100 + i, 10 + i, i % 4 == 0 ? -1 : 40.0 * i);
            (i % 3 == 0 ? onA : onB).add(e);
            all.add(e);
        }
        // a request refused before it had a route: no route, backend or model
        UsageEvent refused = new UsageEvent(day + 10, null, null, null, null, "refused", 0, 0, -1);
        onB.add(refused);
        all.add(refused);
        try (SharedUsage a = new SharedUsage(storeA, 7 * DAY_MS); SharedUsage b = new SharedUsage(storeB, 7 * DAY_MS)) {
            a.offer(onA);
            b.offer(onB);
            assertTrue(a.flush());
            assertTrue(b.flush());
            UsagePricing pricing = new UsagePricing(4, Map.of("beta", 2.0));
            UsagePricing.InstanceSpend spend = (backend, from, to) -> backend.equals("mg-inst")
                    ? OptionalDouble.of(7.77) : OptionalDouble.empty();
            for (GroupBy by : GroupBy.values()) {
                var expected = UsageRendering.json(UsageReport.build(all, day, day + DAY_MS, by, pricing, spend,
                        null), JSON, true);
                assertEquals(expected, UsageRendering.json(UsageReport.build(a, day, day + DAY_MS, by, pricing, spend,
                        null), JSON, true), by.label());
                assertEquals(expected, UsageRendering.json(UsageReport.build(b, day, day + DAY_MS, by, pricing, spend,
                        null), JSON, true), by.label());
            }
        }
    }

    @Test
    void whatWaitedWhileRedisWasAwayIsCountedOnceWhenItIsBack() throws Exception {
        long day = System.currentTimeMillis() / DAY_MS * DAY_MS;
        RedisServer own = RedisServer.start();
        try {
            StateStore store = own.store(vertx, "usage-b", "replica-a", Duration.ofMillis(300));
            try (SharedUsage shared = new SharedUsage(store, 7 * DAY_MS)) {
                shared.offer(List.of(event(day + 1, "k", "beta", "completed", 11, 3, 50)));
                assertTrue(shared.flush());
                own.stop();
                shared.offer(List.of(event(day + 2, "k", "beta", "completed", 5, 1, 60)));
                assertFalse(shared.flush(), "Redis is away: kept");
                own.restart();
                // Redis came back empty (no persistence in the test): only what waited is in it now, once
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (!shared.flush() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                shared.flush();
                UsageReport report = UsageReport.build(shared, day, day + DAY_MS, GroupBy.KEY,
                        new UsagePricing(4, Map.of()), UsagePricing.InstanceSpend.NONE, null);
                assertEquals(1, report.total().tally.requests());
                assertEquals(5, report.total().tally.input());
            }
        } finally {
            own.stop();
        }
    }
}

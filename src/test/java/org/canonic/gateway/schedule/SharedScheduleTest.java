package org.canonic.gateway.schedule;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.state.Replicas;
import org.canonic.gateway.state.ReplicasControl;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;

import static org.canonic.gateway.schedule.ScheduleFixtures.MAPPER;
import static org.canonic.gateway.schedule.ScheduleFixtures.SETTINGS;
import static org.canonic.gateway.schedule.ScheduleFixtures.T0;
import static org.canonic.gateway.schedule.ScheduleFixtures.maintenance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The schedule shared by replicas through a real Redis: every replica sees the same entries, a window starts once
 * however many replicas believe they lead, and every replica drains its own view of the backend.
 */
class SharedScheduleTest {

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

    private static StateStore store(String prefix, String replica) {
        return redis.store(vertx, prefix, replica, Duration.ofSeconds(2));
    }

    /** A replica's registry on the shared schedule under {@code prefix}. */
    private record Replica(Schedule schedule, ScheduleFixtures.Backends backends, ScheduleFixtures.Events events) {
    }

    private Replica replica(String prefix, String name, ScheduleFixtures.MovableClock clock, BooleanSupplier leads) {
        ScheduleFixtures.Backends backends = new ScheduleFixtures.Backends("alpha", "beta");
        ScheduleFixtures.Events events = new ScheduleFixtures.Events();
        Schedule schedule = new Schedule(new RedisScheduleStore(store(prefix, name), MAPPER), SETTINGS, clock, leads,
                events, backends, ScheduleFixtures.audit(dir.resolve(name)), MAPPER);
        return new Replica(schedule, backends, events);
    }

    @Test
    void everyReplicaSeesTheSameEntriesAndARestartKeepsThem() {
        String prefix = "schedule-" + UUID.randomUUID();
        ScheduleFixtures.MovableClock clock = new ScheduleFixtures.MovableClock(T0);
        Replica a = replica(prefix, "a", clock, () -> true);
        Replica b = replica(prefix, "b", clock, () -> false);
        ScheduleEntry window = a.schedule().create(maintenance("alpha", T0.plusSeconds(60), T0.plusSeconds(120)));
        assertEquals(List.of(window), b.schedule().list(null, null, null, null));
        ScheduleEntry other = b.schedule().create(maintenance("beta", T0.plusSeconds(30), T0.plusSeconds(90)));
        assertEquals(List.of(other, window), a.schedule().list(null, null, null, null));

        Replica restarted = replica(prefix, "a-again", clock, () -> true);
        assertEquals(List.of(other, window), restarted.schedule().list(null, null, null, null));
        b.schedule().delete(window.id());
        assertEquals(List.of(other), a.schedule().list(null, null, null, null));
        assertEquals(List.of(other), restarted.schedule().list(null, null, null, null));
    }

    @Test
    void twoReplicasThatBothBelieveTheyLeadStartAndEndAWindowOnce() throws Exception {
        String prefix = "split-" + UUID.randomUUID();
        ScheduleFixtures.MovableClock clock = new ScheduleFixtures.MovableClock(T0);
        List<Replica> replicas = List.of(replica(prefix, "a", clock, () -> true), replica(prefix, "b", clock,
                () -> true), replica(prefix, "c", clock, () -> true));
        List<ScheduleEntry> windows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            windows.add(replicas.get(0).schedule().create(ScheduleFixtures.entry(ScheduleEntry.Kind.RESERVATION,
                    ScheduleEntry.TargetKind.ROUTE, "r" + i, T0.plusSeconds(10), T0.plusSeconds(20))));
        }
        clock.set(T0.plusSeconds(10));
        race(replicas);
        clock.set(T0.plusSeconds(20));
        race(replicas);
        for (ScheduleEntry window : windows) {
            long started = replicas.stream().mapToLong(r -> r.events().of(window.id()).stream()
                    .filter("schedule.started"::equals).count()).sum();
            long ended = replicas.stream().mapToLong(r -> r.events().of(window.id()).stream()
                    .filter("schedule.ended"::equals).count()).sum();
            assertEquals(1, started, "started once: " + window.id());
            assertEquals(1, ended, "ended once: " + window.id());
        }
        // A leader that takes over later finds the moves stored and announces nothing again.
        Replica heir = replica(prefix, "heir", clock, () -> true);
        heir.schedule().tick();
        assertEquals(List.of(), heir.events().seen);
    }

    /** Every replica ticks at once, several times. */
    private static void race(List<Replica> replicas) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(replicas.size() * 2);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> ticks = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            for (Replica replica : replicas) {
                ticks.add(pool.submit(() -> {
                    go.await();
                    replica.schedule().tick();
                    return null;
                }));
            }
        }
        go.countDown();
        for (Future<?> tick : ticks) {
            tick.get();
        }
        pool.shutdown();
    }

    @Test
    void onlyTheLeaderAnnouncesButEveryReplicaDrainsItsOwnViewOfTheBackend() throws Exception {
        String prefix = "leader-" + UUID.randomUUID();
        ScheduleFixtures.MovableClock clock = new ScheduleFixtures.MovableClock(T0);
        Replicas first = new Replicas(store(prefix, "first"), vertx, Duration.ofSeconds(1));
        Replicas second = new Replicas(store(prefix, "second"), vertx, Duration.ofSeconds(1));
        try {
            assertTrue(first.leader() ^ second.leader());
            Replica a = replica(prefix, "first", clock, first::leader);
            Replica b = replica(prefix, "second", clock, second::leader);
            ScheduleEntry window = b.schedule().create(maintenance("alpha", T0.plusSeconds(5), T0.plusSeconds(10)));
            clock.set(T0.plusSeconds(5));
            a.schedule().tick();
            b.schedule().tick();
            a.schedule().tick();
            assertTrue(a.backends().drained("alpha") && b.backends().drained("alpha"));
            clock.set(T0.plusSeconds(10));
            b.schedule().tick();
            a.schedule().tick();
            b.schedule().tick();
            assertFalse(a.backends().drained("alpha") || b.backends().drained("alpha"));
            Replica leader = first.leader() ? a : b;
            Replica follower = leader == a ? b : a;
            assertEquals(List.of("schedule.started", "schedule.ended"), leader.events().of(window.id()).stream()
                    .filter(type -> !type.equals("schedule.created")).toList());
            assertTrue(follower.events().of(window.id()).stream().noneMatch(type -> type.equals("schedule.started")
                    || type.equals("schedule.ended")), follower.events().seen.toString());
        } finally {
            ReplicasControl.stop(first);
            ReplicasControl.stop(second);
        }
    }

    @Test
    void twoReplicasBookingOverlappingMaintenanceAtOnceCannotBothGetIt() throws Exception {
        String prefix = "book-" + UUID.randomUUID();
        ScheduleFixtures.MovableClock clock = new ScheduleFixtures.MovableClock(T0);
        List<Replica> replicas = List.of(replica(prefix, "a", clock, () -> true), replica(prefix, "b", clock,
                () -> false));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> tries = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Replica replica = replicas.get(i % 2);
            int offset = i;
            tries.add(pool.submit(() -> {
                go.await();
                try {
                    replica.schedule().create(maintenance("alpha", T0.plusSeconds(100 + offset),
                            T0.plusSeconds(200 + offset)));
                    return true;
                } catch (ScheduleException e) {
                    assertEquals(ScheduleException.CONFLICT, e.code());
                    return false;
                }
            }));
        }
        go.countDown();
        int booked = 0;
        for (Future<Boolean> attempt : tries) {
            booked += attempt.get() ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(1, booked);
        assertEquals(1, replicas.get(1).schedule().list(null, null, "alpha", null).size());
    }

    @Test
    void anEntryInRedisThatIsNotAScheduleEntryStopsTheStartNamingIt() {
        String prefix = "corrupt-" + UUID.randomUUID();
        StateStore store = store(prefix, "a");
        store.call(Command.HSET, store.key("schedule"), "sch_broken", "{\"id\":\"sch_broken\"");
        InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class,
                () -> new RedisScheduleStore(store, MAPPER));
        String message = String.join("\n", refused.problems());
        assertTrue(message.contains("sch_broken") && message.contains(prefix + ":schedule"), message);
    }
}

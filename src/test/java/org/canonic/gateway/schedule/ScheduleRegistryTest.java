package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.StateDirectory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.canonic.gateway.schedule.ScheduleFixtures.MAPPER;
import static org.canonic.gateway.schedule.ScheduleFixtures.SETTINGS;
import static org.canonic.gateway.schedule.ScheduleFixtures.T0;
import static org.canonic.gateway.schedule.ScheduleFixtures.entry;
import static org.canonic.gateway.schedule.ScheduleFixtures.maintenance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry on one replica, with a clock the test moves: windows start, drain, end, undrain, and are pruned. */
class ScheduleRegistryTest {

    @TempDir
    Path dir;

    private ScheduleFixtures.MovableClock clock;
    private ScheduleFixtures.Backends backends;
    private ScheduleFixtures.Events events;
    private Schedule schedule;

    @BeforeEach
    void build() {
        clock = new ScheduleFixtures.MovableClock(T0);
        backends = new ScheduleFixtures.Backends("alpha", "beta");
        events = new ScheduleFixtures.Events();
        schedule = new Schedule(new FileScheduleStore(new StateDirectory(dir), MAPPER), SETTINGS, clock, () -> true,
                events, backends, ScheduleFixtures.audit(dir), MAPPER);
    }

    private List<JsonNode> audit() throws Exception {
        Path file = dir.resolve(AuditLog.FILE);
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file).stream().map(line -> {
            try {
                return MAPPER.readTree(line);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    private ScheduleEntry.State state(String id) {
        return schedule.find(id).orElseThrow().state();
    }

    @Test
    void aMaintenanceWindowDrainsItsBackendWhileActiveAndAnnouncesEachStepOnce() throws Exception {
        ScheduleEntry window = schedule.create(maintenance("alpha", T0.plusSeconds(10), T0.plusSeconds(20)));
        schedule.tick();
        assertEquals(ScheduleEntry.State.PLANNED, state(window.id()));
        assertFalse(backends.drained("alpha"));

        clock.set(T0.plusSeconds(10));
        schedule.tick();
        schedule.tick();
        assertEquals(ScheduleEntry.State.ACTIVE, state(window.id()));
        assertTrue(backends.drained("alpha"));
        assertTrue(schedule.find(window.id()).orElseThrow().drainedBySchedule(), "the entry says who drained it");
        assertTrue(schedule.drainedHere(window.id()));

        clock.set(T0.plusSeconds(20));
        schedule.tick();
        schedule.tick();
        assertEquals(ScheduleEntry.State.ENDED, state(window.id()));
        assertFalse(backends.drained("alpha"));
        assertEquals(List.of("drain alpha", "undrain alpha"), backends.calls);
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended"), events.of(window.id()));

        List<JsonNode> audit = audit();
        assertEquals(List.of("schedule.drain", "schedule.undrain"), audit.stream().map(a -> a.get("action").asText())
                .toList());
        assertTrue(audit.stream().allMatch(a -> a.get("caller").asText().equals("schedule")
                && a.get("target").asText().equals("alpha") && a.at("/after/schedule").asText().equals(window.id())),
                audit.toString());
    }

    @Test
    void aBackendDrainedByHandBeforeTheWindowStaysDrainedAfterIt() {
        backends.drained.put("alpha", true);
        ScheduleEntry window = schedule.create(maintenance("alpha", T0, T0.plusSeconds(20)));
        schedule.tick();
        assertEquals(ScheduleEntry.State.ACTIVE, state(window.id()));
        assertFalse(schedule.find(window.id()).orElseThrow().drainedBySchedule());
        clock.set(T0.plusSeconds(21));
        schedule.tick();
        assertTrue(backends.drained("alpha"), "the operator's drain is the operator's to undo");
        assertEquals(List.of(), backends.calls);
    }

    @Test
    void aBackendUndrainedByHandDuringTheWindowIsNotDrainedAgain() {
        ScheduleEntry window = schedule.create(maintenance("alpha", T0, T0.plusSeconds(20)));
        schedule.tick();
        backends.undrain("alpha");
        schedule.tick();
        schedule.tick();
        assertFalse(backends.drained("alpha"));
        clock.set(T0.plusSeconds(21));
        schedule.tick();
        assertEquals(List.of("drain alpha", "undrain alpha"), backends.calls, "no second drain, no second undrain");
        assertEquals(ScheduleEntry.State.ENDED, state(window.id()));
    }

    @Test
    void deletingAnActiveWindowEndsItNowAndUndrains() {
        ScheduleEntry window = schedule.create(maintenance("beta", T0, T0.plusSeconds(600)));
        schedule.tick();
        assertTrue(backends.drained("beta"));
        ScheduleEntry deleted = schedule.delete(window.id());
        assertEquals(ScheduleEntry.State.ACTIVE, deleted.state(), "answered as it was");
        assertFalse(backends.drained("beta"), "undrained before delete returns");
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended", "schedule.deleted"),
                events.of(window.id()));
        assertTrue(schedule.find(window.id()).isEmpty());
        ScheduleException again = assertThrows(ScheduleException.class, () -> schedule.delete(window.id()));
        assertEquals(404, again.status());
        assertEquals("schedule_not_found", again.code());
    }

    @Test
    void backToBackWindowsOfOneBackendHandOverWithoutAGap() {
        ScheduleEntry first = schedule.create(maintenance("alpha", T0, T0.plusSeconds(10)));
        ScheduleEntry second = schedule.create(maintenance("alpha", T0.plusSeconds(10), T0.plusSeconds(20)));
        schedule.tick();
        clock.set(T0.plusSeconds(10));
        schedule.tick();
        assertEquals(ScheduleEntry.State.ENDED, state(first.id()));
        assertEquals(ScheduleEntry.State.ACTIVE, state(second.id()));
        assertTrue(backends.drained("alpha"), "drained by the second window");
        assertTrue(schedule.find(second.id()).orElseThrow().drainedBySchedule());
        clock.set(T0.plusSeconds(20));
        schedule.tick();
        assertFalse(backends.drained("alpha"));
    }

    @Test
    void otherKindsAreAnnouncementsOnly() {
        ScheduleEntry swap = schedule.create(entry(ScheduleEntry.Kind.MODEL_SWAP, ScheduleEntry.TargetKind.BACKEND,
                "alpha", T0, T0.plusSeconds(10)));
        ScheduleEntry route = schedule.create(entry(ScheduleEntry.Kind.MAINTENANCE, ScheduleEntry.TargetKind.ROUTE,
                "main", T0, T0.plusSeconds(10)));
        schedule.tick();
        clock.set(T0.plusSeconds(11));
        schedule.tick();
        assertEquals(List.of(), backends.calls);
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended"), events.of(swap.id()));
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended"), events.of(route.id()));
    }

    @Test
    void overlappingMaintenanceOfOneTargetAndAFullScheduleAreRefused() {
        ScheduleEntry window = schedule.create(maintenance("alpha", T0.plusSeconds(100), T0.plusSeconds(200)));
        ScheduleException conflict = assertThrows(ScheduleException.class,
                () -> schedule.create(maintenance("alpha", T0.plusSeconds(150), T0.plusSeconds(300))));
        assertEquals(409, conflict.status());
        assertEquals("schedule_conflict", conflict.code());
        assertTrue(conflict.getMessage().contains(window.id()), conflict.getMessage());
        schedule.create(maintenance("alpha", T0.plusSeconds(200), T0.plusSeconds(300)));
        schedule.create(maintenance("beta", T0.plusSeconds(150), T0.plusSeconds(300)));
        schedule.create(entry(ScheduleEntry.Kind.RESERVATION, ScheduleEntry.TargetKind.BACKEND, "alpha",
                T0.plusSeconds(150), T0.plusSeconds(300)));
        schedule.create(entry(ScheduleEntry.Kind.CAPACITY, ScheduleEntry.TargetKind.ROUTE, "alpha",
                T0.plusSeconds(150), T0.plusSeconds(300)));
        ScheduleException full = assertThrows(ScheduleException.class,
                () -> schedule.create(entry(ScheduleEntry.Kind.CAPACITY, ScheduleEntry.TargetKind.ROUTE, "x",
                        T0.plusSeconds(150), T0.plusSeconds(300))));
        assertEquals(409, full.status());
        assertEquals("schedule_full", full.code());
        // Ended entries do not count: once windows end there is room again.
        clock.set(T0.plusSeconds(301));
        schedule.tick();
        schedule.create(entry(ScheduleEntry.Kind.CAPACITY, ScheduleEntry.TargetKind.ROUTE, "x",
                T0.plusSeconds(400), T0.plusSeconds(500)));
    }

    @Test
    void aWindowThatPassedWhileNobodyLedIsAnnouncedAsStartedAndEndedWithoutADrain() {
        ScheduleEntry window = schedule.create(maintenance("alpha", T0, T0.plusSeconds(10)));
        clock.set(T0.plusSeconds(60));
        schedule.tick();
        assertEquals(ScheduleEntry.State.ENDED, state(window.id()));
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended"), events.of(window.id()));
        assertEquals(List.of(), backends.calls);
    }

    @Test
    void endedEntriesArePrunedAfterTheRetention() {
        ScheduleEntry window = schedule.create(entry(ScheduleEntry.Kind.RESERVATION, ScheduleEntry.TargetKind.RECIPE,
                "chat", T0, T0.plusSeconds(10)));
        clock.set(T0.plusSeconds(11));
        schedule.tick();
        assertEquals(1, schedule.list(null, null, null, null).size(), "an ended entry is still listed");
        clock.set(T0.plusSeconds(10).plus(SETTINGS.retention()).plusSeconds(1));
        schedule.tick();
        assertEquals(List.of(), schedule.list(null, null, null, null));
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended"), events.of(window.id()),
                "pruning is not announced");
    }

    @Test
    void aFollowerNeitherMovesEntriesNorAnnouncesButFollowsTheActiveWindows() {
        ScheduleFixtures.Backends mine = new ScheduleFixtures.Backends("alpha");
        ScheduleFixtures.Events heard = new ScheduleFixtures.Events();
        FileScheduleStore shared = new FileScheduleStore(new StateDirectory(dir.resolve("shared")), MAPPER);
        Schedule leader = new Schedule(shared, SETTINGS, clock, () -> true, events, backends,
                ScheduleFixtures.audit(dir), MAPPER);
        Schedule follower = new Schedule(shared, SETTINGS, clock, () -> false, heard, mine,
                ScheduleFixtures.audit(dir), MAPPER);
        ScheduleEntry window = leader.create(maintenance("alpha", T0.plusSeconds(5), T0.plusSeconds(10)));
        clock.set(T0.plusSeconds(5));
        follower.tick();
        assertEquals(ScheduleEntry.State.PLANNED, shared.read().get(0).state(), "only the leader moves entries");
        leader.tick();
        follower.tick();
        assertTrue(mine.drained("alpha"), "every replica drains its own view of the backend");
        clock.set(T0.plusSeconds(10));
        leader.tick();
        follower.tick();
        assertFalse(mine.drained("alpha"));
        assertEquals(List.of(), heard.seen);
        assertEquals(List.of("schedule.created", "schedule.started", "schedule.ended"), events.of(window.id()));
    }

    @Test
    void listingFiltersByWindowTargetAndKindSortedByStart() {
        ScheduleEntry late = schedule.create(maintenance("alpha", T0.plusSeconds(300), T0.plusSeconds(400)));
        ScheduleEntry early = schedule.create(entry(ScheduleEntry.Kind.RESERVATION, ScheduleEntry.TargetKind.ROUTE,
                "main", T0.plusSeconds(100), T0.plusSeconds(200)));
        assertEquals(List.of(early, late), schedule.list(null, null, null, null));
        assertEquals(List.of(early), schedule.list(T0, T0.plusSeconds(300), null, null), "[from, to): 300 excluded");
        assertEquals(List.of(late), schedule.list(T0.plusSeconds(200), null, null, null), "ends_at 200 excluded");
        assertEquals(List.of(late), schedule.list(null, null, "alpha", null));
        assertEquals(List.of(early), schedule.list(null, null, null, ScheduleEntry.Kind.RESERVATION));
        assertEquals(List.of(), schedule.list(null, null, "main", ScheduleEntry.Kind.MAINTENANCE));
    }
}

package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.schedule.ScheduleEntry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The minimum in force from the schedule registry's capacity entries and the policy's own windows. */
class CapacityWindowsTest {

    private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

    private static CapacityPolicy policy(int min, int max, List<CapacityWindow> windows) {
        return new CapacityPolicy("main", min, max, List.of("vastai", "runpod"), null, null, null, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ZERO, Duration.ZERO,
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(5), windows);
    }

    private static ScheduleEntry capacity(String target, ScheduleEntry.TargetKind kind, Instant from, Instant to,
                                          Integer min) {
        ObjectNode details = min == null ? null : JsonNodeFactory.instance.objectNode().put("min_instances", min);
        return new ScheduleEntry("sch_" + target + from, ScheduleEntry.Kind.CAPACITY, kind, target, from, to, "ops",
                null, details, ScheduleEntry.State.PLANNED, T0, "test", null);
    }

    @Test
    void aCapacityEntryOfTheRecipeRaisesTheMinimumFromItsLeadUntilItEnds() {
        AtomicReference<List<ScheduleEntry>> entries = new AtomicReference<>(List.of(
                capacity("main", ScheduleEntry.TargetKind.RECIPE, T0.plusSeconds(3600), T0.plusSeconds(7200), 2),
                capacity("other", ScheduleEntry.TargetKind.RECIPE, T0, T0.plusSeconds(7200), 3),
                capacity("main", ScheduleEntry.TargetKind.ROUTE, T0, T0.plusSeconds(7200), 3)));
        // The slowest provider sets the lead: RunPod's 15 minutes.
        CapacityWindows windows = new CapacityWindows(entries::get, (recipe, provider) ->
                provider.equals("runpod") ? Duration.ofMinutes(15) : Duration.ofMinutes(5));
        CapacityPolicy p = policy(0, 3, List.of());
        assertEquals(0, windows.floor(p, T0.plusSeconds(3600 - 15 * 60 - 1)).minInstances(), "before the lead");
        CapacityWindows.Floor ahead = windows.floor(p, T0.plusSeconds(3600 - 15 * 60));
        assertEquals(2, ahead.minInstances());
        assertTrue(ahead.because().contains("launched 900 s ahead"), ahead.because());
        assertEquals(2, windows.floor(p, T0.plusSeconds(7199)).minInstances());
        assertEquals(0, windows.floor(p, T0.plusSeconds(7200)).minInstances(), "released when it ends");
        assertEquals(1, windows.floor(policy(0, 1, List.of()), T0.plusSeconds(4000)).minInstances(),
                "never above max_instances");

        // Without details.min_instances an entry keeps one; the higher of overlapping windows wins.
        CapacityWindow own = CapacityWindow.parse("daily", "11:00", "11:30", "UTC", 3, f -> f);
        entries.set(List.of(capacity("main", ScheduleEntry.TargetKind.RECIPE, T0, T0.plusSeconds(7200), null)));
        assertEquals(1, windows.floor(policy(0, 3, List.of(own)), T0).minInstances());
        CapacityWindows.Floor both = windows.floor(policy(0, 3, List.of(own)), T0.plusSeconds(3600));
        assertEquals(3, both.minInstances());
        assertTrue(both.because().startsWith("window daily 11:00-11:30 UTC in force"), both.because());
        assertEquals(2, windows.floor(policy(2, 3, List.of()), T0).minInstances(), "never below the policy's own");
    }

    @Test
    void aWindowAddingSeveralInstancesStartsOneScaleOutCooldownEarlierForEachBeyondTheFirst() {
        // Cooldown 5 min (below the minimum the controller launches one instance per cooldown), time to ready 10 min.
        CapacityPolicy p = new CapacityPolicy("main", 1, 4, List.of("vastai"), null, null, null, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ofMinutes(5), Duration.ZERO,
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(5),
                List.of(CapacityWindow.parse("daily", "12:00", "13:00", "UTC", 4, f -> f)));
        CapacityWindows windows = CapacityWindows.own(Duration.ofMinutes(10));
        // Three more than the policy's one: 10 min + 2 x 5 min before 12:00.
        assertEquals(1, windows.floor(p, Instant.parse("2026-12-07T11:39:59Z")).minInstances());
        assertEquals(4, windows.floor(p, Instant.parse("2026-12-07T11:40:00Z")).minInstances());
        assertEquals(Duration.ofMinutes(10), windows.lead(p, 2), "one more: the time to ready alone");
        assertEquals(Duration.ofMinutes(10), windows.lead(p, 1), "none more");
    }

    @Test
    void theLeadIsRealTimeBeforeTheLocalStartAcrossTheClockChangeAndTheDayBefore() {
        CapacityWindows windows = CapacityWindows.own(Duration.ofMinutes(10));
        // Monday 30 March 2026, the first weekday in CEST: 08:00 Berlin is 06:00Z, so the launch is due at 05:50Z.
        CapacityPolicy office = policy(0, 2, List.of(CapacityWindow.parse("mon-fri", "08:00", "18:00",
                "Europe/Berlin", 1, f -> f)));
        assertEquals(0, windows.floor(office, Instant.parse("2026-03-30T05:49:59Z")).minInstances());
        assertEquals(1, windows.floor(office, Instant.parse("2026-03-30T05:50:00Z")).minInstances());
        // On Friday 27 March (CET) the same window is due an hour later in UTC.
        assertEquals(0, windows.floor(office, Instant.parse("2026-03-27T06:49:59Z")).minInstances());
        assertEquals(1, windows.floor(office, Instant.parse("2026-03-27T06:50:00Z")).minInstances());
        // A Monday window opening at 00:05 is due on Sunday evening, and a Friday night window still counts on
        // Saturday morning until it ends.
        CapacityPolicy night = policy(0, 2, List.of(CapacityWindow.parse("mon", "00:05", "01:00", "UTC", 1, f -> f),
                CapacityWindow.parse("fri", "23:00", "03:00", "UTC", 2, f -> f)));
        assertEquals(0, windows.floor(night, Instant.parse("2026-12-06T23:54:59Z")).minInstances());
        assertEquals(1, windows.floor(night, Instant.parse("2026-12-06T23:55:00Z")).minInstances());
        assertEquals(2, windows.floor(night, Instant.parse("2026-12-12T02:59:59Z")).minInstances());
        assertEquals(0, windows.floor(night, Instant.parse("2026-12-12T03:00:00Z")).minInstances());
    }

    @Test
    void aScheduleThatCannotBeReadIsSaidSoRatherThanReadAsNoWindow() {
        CapacityWindows windows = new CapacityWindows(() -> {
            throw new IllegalStateException("redis down");
        }, TimeToReady.fixed(Duration.ZERO));
        CapacityWindows.Floor floor = windows.floor(policy(0, 2, List.of()), T0);
        assertNotNull(floor.unreadable());
        assertTrue(floor.unreadable().contains("redis down"), floor.unreadable());
        assertNull(floor.because());
    }
}

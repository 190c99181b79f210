package org.canonic.gateway.capacity;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recurring capacity windows in a named time zone: wall-clock hours across daylight saving and midnight. */
class CapacityWindowTest {

    private static final UnaryOperator<String> JSON = f -> "windows[0]." + f;

    private static CapacityWindow window(String days, String from, String to, String zone) {
        return CapacityWindow.parse(days, from, to, zone, 1, JSON);
    }

    private static Instant at(String utc) {
        return Instant.parse(utc);
    }

    @Test
    void weekdayOfficeHoursKeepTheirWallClockTimesAcrossTheSpringChange() {
        CapacityWindow office = window("mon-fri", "08:00", "18:00", "Europe/Berlin");
        // Friday 27 March 2026 is still CET (UTC+1): 08:00 is 07:00Z.
        assertFalse(office.inForce(at("2026-03-27T06:59:59Z")).isPresent());
        assertEquals(at("2026-03-27T07:00:00Z"), office.inForce(at("2026-03-27T07:00:00Z")).orElseThrow().start());
        assertEquals(at("2026-03-27T17:00:00Z"), office.inForce(at("2026-03-27T16:59:59Z")).orElseThrow().end());
        assertFalse(office.inForce(at("2026-03-27T17:00:00Z")).isPresent(), "ends at 18:00 local");
        // The weekend (the clocks change on Sunday 29 March) has no window.
        assertFalse(office.inForce(at("2026-03-28T10:00:00Z")).isPresent());
        assertEquals(at("2026-03-30T06:00:00Z"), office.next(at("2026-03-27T17:00:00Z")).orElseThrow().start(),
                "Monday is CEST (UTC+2): 08:00 is 06:00Z");
        assertTrue(office.inForce(at("2026-03-30T06:30:00Z")).isPresent());
        assertFalse(office.inForce(at("2026-03-30T05:59:59Z")).isPresent());
    }

    @Test
    void aTimeTheClocksSkipStartsWhenTheyJumpAndATimeTheyRepeatStartsTheFirstTime() {
        // 29 March 2026 in Berlin: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that night.
        CapacityWindow skipped = window("daily", "02:30", "04:00", "Europe/Berlin");
        CapacityWindow.Occurrence spring = skipped.inForce(at("2026-03-29T01:45:00Z")).orElseThrow();
        assertEquals(at("2026-03-29T01:30:00Z"), spring.start(), "03:30 CEST, where 02:30 was pushed to");
        assertEquals(at("2026-03-29T02:00:00Z"), spring.end(), "04:00 CEST");
        // A window across the change lasts one real hour less: 01:30 CET to 03:30 CEST.
        CapacityWindow night = window("sun", "01:30", "03:30", "Europe/Berlin");
        CapacityWindow.Occurrence short1 = night.inForce(at("2026-03-29T00:45:00Z")).orElseThrow();
        assertEquals(3600, short1.end().getEpochSecond() - short1.start().getEpochSecond());
        // 25 October 2026: 03:00 CEST falls back to 02:00 CET, 02:30 happens twice: the first one counts.
        CapacityWindow autumn = window("sun", "02:30", "05:00", "Europe/Berlin");
        CapacityWindow.Occurrence fall = autumn.next(at("2026-10-24T12:00:00Z")).orElseThrow();
        assertEquals(at("2026-10-25T00:30:00Z"), fall.start(), "02:30 CEST, the first 02:30");
        assertEquals(at("2026-10-25T04:00:00Z"), fall.end(), "05:00 CET");
    }

    @Test
    void aWindowCrossingMidnightBelongsToTheDayItStartsOnAndKeepsItsLocalEndAcrossTheAutumnChange() {
        CapacityWindow late = window("fri", "22:00", "02:00", "Europe/Berlin");
        assertTrue(late.crossesMidnight());
        // Friday 4 December 2026 22:00 CET to Saturday 02:00 CET.
        assertTrue(late.inForce(at("2026-12-05T00:30:00Z")).isPresent(), "Saturday 01:30: Friday's window");
        assertEquals(at("2026-12-05T01:00:00Z"), late.inForce(at("2026-12-05T00:30:00Z")).orElseThrow().end());
        assertFalse(late.inForce(at("2026-12-05T01:00:00Z")).isPresent(), "ended at 02:00 Saturday");
        assertFalse(late.inForce(at("2026-12-04T00:30:00Z")).isPresent(),
                "Friday 01:30 would be Thursday's window, and Thursday has none");
        assertFalse(late.inForce(at("2026-12-05T21:30:00Z")).isPresent(), "Saturday 22:30: no window on Saturday");

        // Saturday 24 October 22:00 CEST to Sunday 06:00 CET: nine real hours over the fall-back night.
        CapacityWindow overnight = window("sat", "22:00", "06:00", "Europe/Berlin");
        CapacityWindow.Occurrence o = overnight.inForce(at("2026-10-25T04:30:00Z")).orElseThrow();
        assertEquals(at("2026-10-24T20:00:00Z"), o.start());
        assertEquals(at("2026-10-25T05:00:00Z"), o.end());
        assertFalse(overnight.inForce(at("2026-10-25T05:00:00Z")).isPresent());

        // 24:00 ends at the next midnight; New York's own change (1 November) is kept apart from Berlin's.
        CapacityWindow evening = window("sat,sun", "20:00", "24:00", "America/New_York");
        CapacityWindow.Occurrence e = evening.inForce(at("2026-11-01T03:30:00Z")).orElseThrow();
        assertEquals(ZonedDateTime.parse("2026-10-31T20:00-04:00[America/New_York]").toInstant(), e.start());
        assertEquals(ZonedDateTime.parse("2026-11-01T00:00-04:00[America/New_York]").toInstant(), e.end());
        assertEquals(ZonedDateTime.parse("2026-11-01T20:00-05:00[America/New_York]").toInstant(),
                evening.next(e.end()).orElseThrow().start(), "Sunday evening, after the change to EST");
    }

    @Test
    void everyFieldIsCheckedAndNamed() {
        record Bad(String days, String from, String to, String zone, Integer min, String field) {
        }
        for (Bad bad : new Bad[]{
                new Bad("mon-fry", "08:00", "18:00", "UTC", 1, "windows[0].days"),
                new Bad("", "08:00", "18:00", "UTC", 1, "windows[0].days"),
                new Bad("mon-tue-wed", "08:00", "18:00", "UTC", 1, "windows[0].days"),
                new Bad("mon", "8:00", "18:00", "UTC", 1, "windows[0].from"),
                new Bad("mon", "24:00", "18:00", "UTC", 1, "windows[0].from"),
                new Bad("mon", "08:00", "18:60", "UTC", 1, "windows[0].to"),
                new Bad("mon", "08:00", "08:00", "UTC", 1, "windows[0].to"),
                new Bad("mon", "08:00", "18:00", "Mars/Olympus", 1, "windows[0].zone"),
                new Bad("mon", "08:00", "18:00", "+01:00", 1, "windows[0].zone"),
                new Bad("mon", "08:00", "18:00", null, 1, "windows[0].zone"),
                new Bad("mon", "08:00", "18:00", "UTC", 0, "windows[0].min_instances"),
                new Bad("mon", "08:00", "18:00", "UTC", null, "windows[0].min_instances")}) {
            CapacityWindow.Invalid e = assertThrows(CapacityWindow.Invalid.class,
                    () -> CapacityWindow.parse(bad.days(), bad.from(), bad.to(), bad.zone(), bad.min(), JSON),
                    bad.toString());
            assertEquals(bad.field(), e.field(), e.getMessage());
            assertTrue(e.getMessage().startsWith(bad.field() + " must"), e.getMessage());
        }
        CapacityWindow wrap = window("fri-mon", "00:00", "24:00", "UTC");
        assertEquals(4, wrap.daySet().size(), "a range may wrap over the week's end");
        assertEquals("24:00", wrap.view().path("to").asText());
    }
}

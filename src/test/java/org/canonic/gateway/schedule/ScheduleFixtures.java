package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.StateDirectory;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/** What the schedule's unit tests share: a clock they move, backends in a map, events in a list. */
public final class ScheduleFixtures {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");
    static final ScheduleSettings SETTINGS = new ScheduleSettings(Duration.ofDays(7), Duration.ofDays(90), 5,
            Duration.ofSeconds(1), Duration.ofHours(1), Duration.ofSeconds(30));

    private ScheduleFixtures() {
    }

    /** A clock the test sets (the capacity tests step it too). */
    public static final class MovableClock extends Clock {
        private volatile Instant now;

        public MovableClock(Instant now) {
            this.now = now;
        }

        public void set(Instant instant) {
            now = instant;
        }

        public void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Backends by name: drained or not; every drain and undrain counted. */
    static final class Backends implements ScheduleBackends {
        final Map<String, Boolean> drained = new ConcurrentHashMap<>();
        final List<String> calls = new CopyOnWriteArrayList<>();

        Backends(String... names) {
            for (String name : names) {
                drained.put(name, false);
            }
        }

        @Override
        public boolean exists(String name) {
            return drained.containsKey(name);
        }

        @Override
        public boolean drained(String name) {
            return drained.getOrDefault(name, false);
        }

        @Override
        public void drain(String name, String reason) {
            calls.add("drain " + name);
            drained.put(name, true);
        }

        @Override
        public boolean undrain(String name) {
            calls.add("undrain " + name);
            return drained.put(name, false) == Boolean.TRUE;
        }
    }

    /** Events as {@code type id}. */
    static final class Events implements BiConsumer<String, Map<String, Object>> {
        final List<String> seen = new CopyOnWriteArrayList<>();
        final List<Map<String, Object>> data = new CopyOnWriteArrayList<>();

        @Override
        public void accept(String type, Map<String, Object> event) {
            seen.add(type + " " + event.get("id"));
            data.add(event);
        }

        List<String> of(String id) {
            return seen.stream().filter(s -> s.endsWith(" " + id)).map(s -> s.substring(0, s.indexOf(' '))).toList();
        }
    }

    static AuditLog audit(Path dir) {
        return new AuditLog(new StateDirectory(dir), MAPPER);
    }

    static ScheduleEntry entry(ScheduleEntry.Kind kind, ScheduleEntry.TargetKind targetKind, String target,
                               Instant start, Instant end) {
        return new ScheduleEntry("sch_" + java.util.UUID.randomUUID(), kind, targetKind, target, start, end, "alice",
                "a note", null, ScheduleEntry.State.PLANNED, T0, "admin",
                kind == ScheduleEntry.Kind.MAINTENANCE && targetKind == ScheduleEntry.TargetKind.BACKEND
                        ? Boolean.FALSE : null);
    }

    static ScheduleEntry maintenance(String backend, Instant start, Instant end) {
        return entry(ScheduleEntry.Kind.MAINTENANCE, ScheduleEntry.TargetKind.BACKEND, backend, start, end);
    }
}

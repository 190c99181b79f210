package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One recurring window of a capacity policy: on {@code days}, from {@code from} to {@code to} wall-clock time in the
 * IANA time zone {@code zone}, keep at least {@code minInstances}. A window whose {@code to} is not after its
 * {@code from} crosses midnight: it starts on one of its days and ends the next day ({@code fri 22:00-02:00} runs into
 * Saturday). {@code to} may be {@code 24:00}, the end of the day.
 *
 * <p>Times are wall-clock times in the zone, so a window keeps its hours across daylight saving (08:00-18:00 is 9 or
 * 11 real hours on the days the clocks change). A {@code from} or {@code to} the clocks skip (02:30 on a spring-forward
 * night) is the instant the clocks jump to; one they pass twice (autumn) is the first of the two.
 */
public record CapacityWindow(String days, Set<DayOfWeek> daySet, LocalTime from, LocalTime to, boolean toMidnight,
                             ZoneId zone, int minInstances) {

    private static final Pattern HH_MM = Pattern.compile("([01][0-9]|2[0-3]):[0-5][0-9]");
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm")
            .withResolverStyle(ResolverStyle.STRICT);
    private static final String[] DAY_NAMES = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    private static final List<String> FIELDS = List.of("days", "from", "to", "zone", "min_instances");

    /** A window's field that is wrong, with the field's name as the caller spells it. */
    public static final class Invalid extends IllegalArgumentException {
        private final String field;

        Invalid(String field, String message) {
            super(message);
            this.field = field;
        }

        public String field() {
            return field;
        }
    }

    /** One occurrence of the window: {@code [start, end)}. */
    public record Occurrence(Instant start, Instant end) {
    }

    /**
     * Reads and checks a window's fields.
     *
     * @param name how the caller names a field: {@code windows[0].zone} for a PUT body, a configuration key otherwise
     * @throws Invalid naming the first field that is wrong
     */
    public static CapacityWindow parse(String days, String from, String to, String zone, Integer minInstances,
                                       java.util.function.UnaryOperator<String> name) {
        Set<DayOfWeek> daySet = days(days, name.apply("days"));
        LocalTime start = clock(from, name.apply("from"), false);
        boolean toMidnight = "24:00".equals(to == null ? null : to.strip());
        LocalTime end = toMidnight ? LocalTime.MIDNIGHT : clock(to, name.apply("to"), true);
        if (!toMidnight && start.equals(end)) {
            throw new Invalid(name.apply("to"), name.apply("to") + " must differ from " + name.apply("from")
                    + " (a window of a whole day is from 00:00 to 24:00), got " + to);
        }
        if (zone == null || zone.isBlank() || !ZoneId.getAvailableZoneIds().contains(zone.strip())) {
            throw new Invalid(name.apply("zone"), name.apply("zone") + " must be an IANA time zone name such as"
                    + " Europe/Berlin or UTC, got " + (zone == null ? "nothing" : "'" + shown(zone) + "'"));
        }
        if (minInstances == null || minInstances < 1 || minInstances > CapacityPolicy.MAX_INSTANCES_LIMIT) {
            throw new Invalid(name.apply("min_instances"), name.apply("min_instances") + " must lie between 1 and "
                    + CapacityPolicy.MAX_INSTANCES_LIMIT + ", got " + minInstances);
        }
        return new CapacityWindow(days.strip().toLowerCase(Locale.ROOT), daySet, start, end, toMidnight,
                ZoneId.of(zone.strip()), minInstances);
    }

    /**
     * The {@code windows} of a PUT body: a list (empty or null clears them) of at most {@code max} objects with
     * {@code days, from, to, zone, min_instances}, a field at fault named {@code windows[k].field}.
     *
     * @throws Invalid naming the first field that is wrong
     */
    public static List<CapacityWindow> list(JsonNode list, int max) {
        if (list.isNull()) {
            return List.of();
        }
        if (!list.isArray() || list.size() > max) {
            throw new Invalid("windows", "windows must be a list of at most " + max + " objects such as {\"days\":"
                    + "\"mon-fri\",\"from\":\"08:00\",\"to\":\"18:00\",\"zone\":\"Europe/Berlin\",\"min_instances\":1}.");
        }
        List<CapacityWindow> windows = new ArrayList<>();
        for (int k = 0; k < list.size(); k++) {
            JsonNode w = list.get(k);
            String at = "windows[" + k + "]";
            if (!w.isObject()) {
                throw new Invalid(at, at + " must be an object with " + FIELDS + ".");
            }
            for (Iterator<String> names = w.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!FIELDS.contains(name)) {
                    throw new Invalid(at + "." + shown(name), "Unknown field '" + at + "." + shown(name)
                            + "'; a window has " + FIELDS + ".");
                }
            }
            JsonNode min = w.get("min_instances");
            if (min != null && !(min.isIntegralNumber() && min.canConvertToInt())) {
                throw new Invalid(at + ".min_instances", at + ".min_instances must be an integer.");
            }
            for (String textual : List.of("days", "from", "to", "zone")) {
                if (w.has(textual) && !w.get(textual).isTextual()) {
                    throw new Invalid(at + "." + textual, at + "." + textual + " must be a string.");
                }
            }
            try {
                windows.add(parse(w.path("days").asText(null), w.path("from").asText(null), w.path("to").asText(null),
                        w.path("zone").asText(null), min == null ? null : min.intValue(), f -> at + "." + f));
            } catch (Invalid e) {
                throw new Invalid(e.field(), e.getMessage() + ".");
            }
        }
        return List.copyOf(windows);
    }

    /** {@code mon-fri}, {@code sat,sun}, {@code mon-wed,fri}, {@code fri-mon} (wraps), or {@code daily}. */
    private static Set<DayOfWeek> days(String days, String field) {
        String usage = field + " must be days such as mon-fri, sat,sun or daily";
        if (days == null || days.isBlank() || days.length() > 64) {
            throw new Invalid(field, usage + ", got " + (days == null ? "nothing" : "'" + shown(days) + "'"));
        }
        String spec = days.strip().toLowerCase(Locale.ROOT);
        if (spec.equals("daily")) {
            return EnumSet.allOf(DayOfWeek.class);
        }
        Set<DayOfWeek> set = EnumSet.noneOf(DayOfWeek.class);
        for (String part : spec.split(",", -1)) {
            String[] range = part.strip().split("-", -1);
            if (range.length > 2) {
                throw new Invalid(field, usage + ", got '" + shown(days) + "'");
            }
            DayOfWeek first = day(range[0], field, usage, days);
            DayOfWeek last = range.length == 2 ? day(range[1], field, usage, days) : first;
            for (DayOfWeek d = first; ; d = d.plus(1)) {
                set.add(d);
                if (d == last) {
                    break;
                }
            }
        }
        return set;
    }

    private static DayOfWeek day(String name, String field, String usage, String days) {
        for (int i = 0; i < DAY_NAMES.length; i++) {
            if (DAY_NAMES[i].equals(name.strip())) {
                return DayOfWeek.of(i + 1);
            }
        }
        throw new Invalid(field, usage + ", got '" + shown(days) + "'");
    }

    private static LocalTime clock(String value, String field, boolean mayBeMidnight) {
        if (value == null || !HH_MM.matcher(value.strip()).matches()) {
            throw new Invalid(field, field + " must be a time HH:MM between 00:00 and 23:59"
                    + (mayBeMidnight ? " (or 24:00)" : "") + ", got " + (value == null ? "nothing"
                    : "'" + shown(value) + "'"));
        }
        try {
            return LocalTime.parse(value.strip(), CLOCK);
        } catch (DateTimeParseException e) {
            throw new Invalid(field, field + " must be a time HH:MM, got '" + shown(value) + "'");
        }
    }

    private static String shown(String value) {
        String bounded = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        return bounded.replaceAll("\\p{Cntrl}", "");
    }

    /** Whether the window ends on the day after the one it starts on. */
    public boolean crossesMidnight() {
        return toMidnight || !to.isAfter(from);
    }

    /** The occurrence starting on {@code date}, if the window runs that day. */
    Optional<Occurrence> on(LocalDate date) {
        if (!daySet.contains(date.getDayOfWeek())) {
            return Optional.empty();
        }
        // ZonedDateTime.of resolves a skipped time forward by the gap, a repeated one to its earlier offset.
        Instant start = ZonedDateTime.of(date, from, zone).toInstant();
        Instant end = ZonedDateTime.of(crossesMidnight() ? date.plusDays(1) : date, to, zone).toInstant();
        return end.isAfter(start) ? Optional.of(new Occurrence(start, end)) : Optional.empty();
    }

    /** The occurrence in force at {@code now}: started at or before it and not ended. */
    public Optional<Occurrence> inForce(Instant now) {
        LocalDate today = LocalDate.ofInstant(now, zone);
        // A window lasts at most a day, so one in force started today or yesterday (local dates).
        for (LocalDate d : new LocalDate[]{today.minusDays(1), today}) {
            Optional<Occurrence> o = on(d).filter(x -> !now.isBefore(x.start()) && now.isBefore(x.end()));
            if (o.isPresent()) {
                return o;
            }
        }
        return Optional.empty();
    }

    /** The next occurrence starting after {@code now}. */
    public Optional<Occurrence> next(Instant now) {
        LocalDate today = LocalDate.ofInstant(now, zone);
        for (int k = 0; k <= 8; k++) {
            Optional<Occurrence> o = on(today.plusDays(k)).filter(x -> x.start().isAfter(now));
            if (o.isPresent()) {
                return o;
            }
        }
        return Optional.empty();
    }

    /** As the admin API shows and takes it. */
    public ObjectNode view() {
        ObjectNode v = JsonNodeFactory.instance.objectNode();
        v.put("days", days);
        v.put("from", from.format(CLOCK));
        v.put("to", toMidnight ? "24:00" : to.format(CLOCK));
        v.put("zone", zone.getId());
        v.put("min_instances", minInstances);
        return v;
    }
}

package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One announced piece of planned work on the fleet. Immutable: a transition makes a new entry, which is what lets the
 * shared store compare and set a whole entry.
 *
 * <p>As JSON (the admin API and both stores), in this order: {@code id, kind, target_kind, target, starts_at,
 * ends_at, holder, note, details, state, created_at, created_by}, plus {@code drained_by_schedule} on a maintenance
 * window of a backend. {@code note} and {@code details} are null when not given.
 *
 * @param drainedBySchedule on a maintenance window of a backend: whether the window drained it when it started (false
 *                          while planned, and when an operator had drained it by hand before); null otherwise
 */
public record ScheduleEntry(String id, Kind kind, TargetKind targetKind, String target, Instant startsAt,
                            Instant endsAt, String holder, String note, ObjectNode details, State state,
                            Instant createdAt, String createdBy, Boolean drainedBySchedule) {

    /** What the entry announces; only maintenance on a backend makes the gateway act, the rest are announcements. */
    public enum Kind {
        MAINTENANCE, MODEL_SWAP, RESERVATION, CAPACITY;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What {@code target} names. */
    public enum TargetKind {
        ROUTE, BACKEND, INSTANCE, RECIPE;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Planned until {@code starts_at}, active until {@code ends_at}, then ended (kept for the retention). */
    public enum State {
        PLANNED, ACTIVE, ENDED;

        public String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Whether the gateway itself acts on this entry: a maintenance window of a backend drains it. */
    public boolean drainsBackend() {
        return kind == Kind.MAINTENANCE && targetKind == TargetKind.BACKEND;
    }

    /** Whether the window overlaps {@code [from, to)}; a null bound is open. */
    public boolean overlaps(Instant from, Instant to) {
        return (to == null || startsAt.isBefore(to)) && (from == null || endsAt.isAfter(from));
    }

    public ScheduleEntry withState(State next) {
        return new ScheduleEntry(id, kind, targetKind, target, startsAt, endsAt, holder, note, details, next,
                createdAt, createdBy, drainedBySchedule);
    }

    public ScheduleEntry started(boolean drained) {
        return new ScheduleEntry(id, kind, targetKind, target, startsAt, endsAt, holder, note, details, State.ACTIVE,
                createdAt, createdBy, drainsBackend() ? drained : null);
    }

    public ObjectNode toJson(ObjectMapper mapper) {
        ObjectNode json = mapper.createObjectNode();
        json.put("id", id);
        json.put("kind", kind.json());
        json.put("target_kind", targetKind.json());
        json.put("target", target);
        json.put("starts_at", startsAt.toString());
        json.put("ends_at", endsAt.toString());
        json.put("holder", holder);
        json.put("note", note);
        if (details == null) {
            json.putNull("details");
        } else {
            json.set("details", details.deepCopy());
        }
        json.put("state", state.json());
        json.put("created_at", createdAt.toString());
        json.put("created_by", createdBy);
        if (drainsBackend()) {
            json.put("drained_by_schedule", Boolean.TRUE.equals(drainedBySchedule));
        }
        return json;
    }

    /**
     * Reads an entry as {@link #toJson} wrote it.
     *
     * @throws IllegalArgumentException naming the first field that is missing or wrong
     */
    public static ScheduleEntry fromJson(JsonNode json) {
        if (json == null || !json.isObject()) {
            throw new IllegalArgumentException("an entry is not a JSON object");
        }
        Kind kind = enumValue(Kind.class, text(json, "kind"), "kind");
        TargetKind targetKind = enumValue(TargetKind.class, text(json, "target_kind"), "target_kind");
        JsonNode details = json.get("details");
        if (details != null && !details.isNull() && !details.isObject()) {
            throw new IllegalArgumentException("'details' is not an object");
        }
        JsonNode drained = json.get("drained_by_schedule");
        ScheduleEntry entry = new ScheduleEntry(text(json, "id"), kind, targetKind, text(json, "target"),
                instant(json, "starts_at"), instant(json, "ends_at"), text(json, "holder"),
                json.hasNonNull("note") ? json.get("note").asText() : null,
                details == null || details.isNull() ? null : (ObjectNode) details,
                enumValue(State.class, text(json, "state"), "state"), instant(json, "created_at"),
                text(json, "created_by"), drained != null && drained.isBoolean() ? drained.booleanValue() : null);
        if (!entry.endsAt.isAfter(entry.startsAt)) {
            throw new IllegalArgumentException("entry " + entry.id + " ends before it starts");
        }
        return entry;
    }

    /** The webhook data of every schedule event: never more than the announcement itself. */
    public Map<String, Object> eventData() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("id", id);
        data.put("kind", kind.json());
        data.put("target_kind", targetKind.json());
        data.put("target", target);
        data.put("starts_at", startsAt.toString());
        data.put("ends_at", endsAt.toString());
        data.put("holder", holder);
        return data;
    }

    private static String text(JsonNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null || !value.isTextual() || value.textValue().isEmpty()) {
            throw new IllegalArgumentException("'" + field + "' is missing or not a string");
        }
        return value.textValue();
    }

    private static Instant instant(JsonNode json, String field) {
        try {
            return Instant.parse(text(json, field));
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("'" + field + "' is not an ISO-8601 instant");
        }
    }

    static <E extends Enum<E>> E enumValue(Class<E> type, String value, String field) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().toLowerCase(Locale.ROOT).equals(value)) {
                return constant;
            }
        }
        throw new IllegalArgumentException("'" + field + "' is not one of the known values");
    }
}

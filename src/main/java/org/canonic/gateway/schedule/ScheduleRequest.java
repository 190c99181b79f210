package org.canonic.gateway.schedule;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Reads a {@code POST /admin/schedule} body strictly and checks every field, so that a typo or an impossible window
 * is refused with the field named rather than announced. The fields: {@code kind, target_kind, target, starts_at,
 * ends_at, holder} (required), {@code note, details} (optional); any other field is refused.
 */
public final class ScheduleRequest {

    /** The largest body the API reads; what is larger answers 413. */
    public static final int MAX_BODY_BYTES = 64 * 1024;
    public static final int MAX_TARGET = 128;
    public static final int MAX_HOLDER = 64;
    public static final int MAX_NOTE = 1000;
    public static final int MAX_DETAILS_BYTES = 4 * 1024;
    /** The most instances a capacity entry may keep (a capacity policy's max-instances limit). */
    public static final int MAX_CAPACITY_INSTANCES = 64;
    public static final Pattern TARGET = Pattern.compile("[A-Za-z0-9._:/-]{1," + MAX_TARGET + "}");
    static final List<String> FIELDS = List.of("kind", "target_kind", "target", "starts_at", "ends_at", "holder",
            "note", "details");

    private ScheduleRequest() {
    }

    /**
     * A new planned entry from a request body.
     *
     * @param backendExists whether a backend of that name is configured or registered (a maintenance window of a
     *                      backend must name one)
     * @throws ScheduleException 400 (413 for a body over {@value #MAX_BODY_BYTES} bytes) naming the field at fault
     */
    public static ScheduleEntry parse(ObjectMapper mapper, String body, Instant now, ScheduleSettings settings,
                                      Predicate<String> backendExists, String caller) {
        ObjectNode json = object(mapper, body);
        ScheduleEntry.Kind kind = choice(ScheduleEntry.Kind.class, json, "kind");
        ScheduleEntry.TargetKind targetKind = choice(ScheduleEntry.TargetKind.class, json, "target_kind");
        String target = required(json, "target");
        if (!TARGET.matcher(target).matches()) {
            throw ScheduleException.invalid("target", "'target' must be 1 to " + MAX_TARGET + " characters of "
                    + "A-Z a-z 0-9 . _ : / -.");
        }
        Instant startsAt = instant(json, "starts_at");
        Instant endsAt = instant(json, "ends_at");
        if (!endsAt.isAfter(startsAt)) {
            throw ScheduleException.invalid("ends_at", "'ends_at' must be after 'starts_at'.");
        }
        if (!endsAt.isAfter(now)) {
            throw ScheduleException.invalid("ends_at", "'ends_at' must be in the future; this window is over.");
        }
        Duration length = Duration.between(startsAt, endsAt);
        if (length.compareTo(settings.maxDuration()) > 0) {
            throw ScheduleException.invalid("ends_at", "The window lasts " + length + ", longer than "
                    + "gateway.schedule.max-duration (" + settings.maxDuration() + "); split it.");
        }
        if (startsAt.isAfter(now.plus(settings.horizon()))) {
            throw ScheduleException.invalid("starts_at", "'starts_at' lies beyond gateway.schedule.horizon ("
                    + settings.horizon() + " from now).");
        }
        String holder = clean(required(json, "holder"), false).strip();
        if (holder.isEmpty() || holder.codePointCount(0, holder.length()) > MAX_HOLDER) {
            throw ScheduleException.invalid("holder", "'holder' must be 1 to " + MAX_HOLDER + " characters (control "
                    + "characters do not count).");
        }
        String note = optionalText(json, "note");
        if (note != null) {
            note = clean(note, true);
            if (note.codePointCount(0, note.length()) > MAX_NOTE) {
                throw ScheduleException.invalid("note", "'note' may have at most " + MAX_NOTE + " characters.");
            }
        }
        ObjectNode details = details(mapper, json);
        if (kind == ScheduleEntry.Kind.CAPACITY) {
            capacity(targetKind, details);
        }
        if (kind == ScheduleEntry.Kind.MAINTENANCE && targetKind == ScheduleEntry.TargetKind.BACKEND
                && !backendExists.test(target)) {
            throw new ScheduleException(400, ScheduleException.UNKNOWN_BACKEND, "target", "No backend is named '"
                    + target + "'; a maintenance window of a backend must name a configured or registered one.");
        }
        return new ScheduleEntry("sch_" + UUID.randomUUID(), kind, targetKind, target, startsAt, endsAt, holder, note,
                details, ScheduleEntry.State.PLANNED, now, caller,
                kind == ScheduleEntry.Kind.MAINTENANCE && targetKind == ScheduleEntry.TargetKind.BACKEND
                        ? Boolean.FALSE : null);
    }

    /**
     * A capacity entry raises the minimum of a recipe's capacity policy while it lasts (and from the recipe's time to
     * ready before it): it names a recipe, and {@code details.min_instances} (1 when left out) is a count of instances.
     */
    private static void capacity(ScheduleEntry.TargetKind targetKind, ObjectNode details) {
        if (targetKind != ScheduleEntry.TargetKind.RECIPE) {
            throw ScheduleException.invalid("target_kind", "A capacity entry raises a recipe's capacity policy: "
                    + "'target_kind' must be recipe.");
        }
        JsonNode min = details == null ? null : details.get("min_instances");
        if (min != null && !(min.isIntegralNumber() && min.canConvertToInt() && min.intValue() >= 1
                && min.intValue() <= MAX_CAPACITY_INSTANCES)) {
            throw ScheduleException.invalid("details.min_instances", "'details.min_instances' of a capacity entry "
                    + "must be an integer between 1 and " + MAX_CAPACITY_INSTANCES + ".");
        }
    }

    /**
     * An ISO-8601 instant: {@code 2026-12-07T10:00:00Z} or with an offset ({@code +01:00}), read as the instant it
     * names.
     */
    public static Instant parseInstant(String value) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            return OffsetDateTime.parse(value).toInstant();
        }
    }

    private static ObjectNode object(ObjectMapper mapper, String body) {
        if (body != null && body.length() > MAX_BODY_BYTES / 4
                && body.getBytes(StandardCharsets.UTF_8).length > MAX_BODY_BYTES) {
            throw new ScheduleException(413, ScheduleException.TOO_LARGE, null, "The request body exceeds "
                    + MAX_BODY_BYTES + " bytes.");
        }
        if (body == null || body.isBlank()) {
            throw new ScheduleException(400, ScheduleException.INVALID_JSON, null, "The request body must be a JSON "
                    + "object with " + FIELDS + ".");
        }
        JsonNode parsed;
        try {
            parsed = mapper.reader()
                    .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readTree(body);
        } catch (Exception e) {
            throw new ScheduleException(400, ScheduleException.INVALID_JSON, null, "The request body is not valid "
                    + "JSON (or repeats a field); send a JSON object with " + FIELDS + ".");
        }
        if (!(parsed instanceof ObjectNode object)) {
            throw new ScheduleException(400, ScheduleException.INVALID_JSON, null, "The request body must be a JSON "
                    + "object with " + FIELDS + ".");
        }
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new ScheduleException(400, ScheduleException.UNKNOWN_FIELD, echo(name), "Unknown field '"
                        + echo(name) + "'; the fields are " + FIELDS + ".");
            }
        }
        return object;
    }

    private static String required(ObjectNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            throw ScheduleException.missing(field, "'" + field + "' is required.");
        }
        if (!value.isTextual()) {
            throw ScheduleException.invalid(field, "'" + field + "' must be a string.");
        }
        return value.textValue();
    }

    private static String optionalText(ObjectNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw ScheduleException.invalid(field, "'" + field + "' must be a string.");
        }
        return value.textValue();
    }

    private static <E extends Enum<E>> E choice(Class<E> type, ObjectNode json, String field) {
        String value = required(json, field);
        try {
            return ScheduleEntry.enumValue(type, value, field);
        } catch (IllegalArgumentException e) {
            throw ScheduleException.invalid(field, "'" + field + "' must be one of " + values(type) + ".");
        }
    }

    /** The JSON spelling of an enum's constants, for messages. */
    static <E extends Enum<E>> List<String> values(Class<E> type) {
        return java.util.Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(java.util.Locale.ROOT)).toList();
    }

    private static Instant instant(ObjectNode json, String field) {
        String value = required(json, field);
        try {
            return parseInstant(value);
        } catch (DateTimeParseException e) {
            throw ScheduleException.invalid(field, "'" + field + "' must be an ISO-8601 instant such as "
                    + "2026-12-07T10:00:00Z.");
        }
    }

    private static ObjectNode details(ObjectMapper mapper, ObjectNode json) {
        JsonNode details = json.get("details");
        if (details == null || details.isNull()) {
            return null;
        }
        if (!details.isObject()) {
            throw ScheduleException.invalid("details", "'details' must be a JSON object.");
        }
        int size;
        try {
            size = mapper.writeValueAsBytes(details).length;
        } catch (Exception e) {
            throw ScheduleException.invalid("details", "'details' cannot be serialized.");
        }
        if (size > MAX_DETAILS_BYTES) {
            throw ScheduleException.invalid("details", "'details' takes " + size + " bytes as JSON; at most "
                    + MAX_DETAILS_BYTES + " are kept.");
        }
        return (ObjectNode) details;
    }

    /**
     * Removes control characters (and the Unicode line and paragraph separators), which would let a holder forge
     * lines in logs and files; a note keeps its line breaks and tabs. The text is otherwise kept as given: escaping is
     * for whoever displays it (the console escapes it for HTML).
     */
    static String clean(String text, boolean keepLineBreaks) {
        StringBuilder kept = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            int type = Character.getType(c);
            boolean control = type == Character.CONTROL || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR;
            if (!control || (keepLineBreaks && (c == '\n' || c == '\t'))) {
                kept.appendCodePoint(c);
            }
        });
        return kept.toString();
    }

    private static String echo(String value) {
        String bounded = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        return clean(bounded, false);
    }
}

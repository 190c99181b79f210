package org.canonic.gateway.usage;

import com.fasterxml.jackson.databind.JsonNode;
import org.canonic.gateway.telemetry.RequestRecord;

import java.time.Instant;

/**
 * One closed request as the usage aggregate counts it: the same fields whether it comes from a record the ledger
 * just wrote or from a ledger line read back at start, so that both count alike.
 *
 * @param endedAtMs when the request closed (its bucket)
 * @param key       the client key's id (null without client keys)
 * @param outcome   the ledger's outcome label ({@code completed}, {@code refused}, ...)
 * @param input     prompt tokens (0 when none were reported)
 * @param output    completion tokens (0 when none were reported)
 * @param ttftMs    time to first token in ms, or -1 when no token was relayed
 */
public record UsageEvent(long endedAtMs, String key, String route, String backend, String model, String outcome,
                         long input, long output, double ttftMs) {

    /**
     * A request without a route (refused before routing) keeps no model name: the name is whatever the client sent,
     * and counting by it would let a client make the aggregate grow without bound.
     */
    static UsageEvent of(RequestRecord record) {
        return new UsageEvent(record.endedAtMs(), record.keyId(), record.route(), record.backend(),
                record.route() == null ? null : record.model(),
                record.outcome() == null ? null : record.outcome().label(), Math.max(0, record.promptTokens()),
                Math.max(0, record.completionTokens()), ledgerTtft(record.timeToFirstTokenMs()));
    }

    /** TTFT to the tenth of a millisecond, as the ledger line writes it: live and rebuilt buckets agree exactly. */
    private static double ledgerTtft(double ms) {
        return ms < 0 ? -1 : Math.round(ms * 10) / 10.0;
    }

    /** A ledger line read back; null when it is not a usable record (no end time). */
    static UsageEvent of(JsonNode line) {
        String ended = line.path("ended_at").asText(null);
        if (ended == null) {
            return null;
        }
        long endedAt;
        try {
            endedAt = Instant.parse(ended).toEpochMilli();
        } catch (RuntimeException e) {
            return null;
        }
        JsonNode usage = line.path("usage");
        JsonNode ttft = line.path("ttft_ms");
        String route = text(line, "route");
        return new UsageEvent(endedAt, text(line, "key_id"), route, text(line, "backend"),
                route == null ? null : text(line, "model"), text(line, "outcome"), usage.path("prompt_tokens").asLong(0),
                usage.path("completion_tokens").asLong(0), ttft.isNumber() ? ttft.asDouble() : -1);
    }

    private static String text(JsonNode line, String field) {
        JsonNode value = line.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}

package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.backend.NonStreamAnswer;
import org.canonic.gateway.backend.SseEvents;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.telemetry.Outcome;
import org.canonic.gateway.telemetry.RequestRecord;
import org.canonic.gateway.telemetry.Telemetry;

/**
 * What the request's ledger record learns from the answer while it is relayed: tokens as they pass, the usage the
 * backend reported (or an estimate from what was relayed when it reported none), the finish reason and, when the
 * operator opted in, the content. Events are never parsed on the way: the finish reason is read from the last data
 * event once the stream has ended.
 */
final class AnswerNotes {

    private final RequestRecord record;
    private final ProxyRequest request;
    private final Telemetry telemetry;

    /** The last data event relayed: where the finish reason is read from at the end. */
    private Buffer lastData;
    private int lastDataStart;
    private int lastDataEnd;
    private boolean usageSeen;

    AnswerNotes(RequestRecord record, ProxyRequest request, Telemetry telemetry) {
        this.record = record;
        this.request = request;
        this.telemetry = telemetry;
    }

    /** A data event is relayed. */
    void dataEvent(Buffer buffer, int start, int end) {
        record.tokenEvent(System.nanoTime());
        lastData = buffer;
        lastDataStart = start;
        lastDataEnd = end;
    }

    /**
     * The stream's usage chunk arrived (relayed or not, as the client asked). It is read within bounds (its size, the
     * members and depth of its usage: see {@link NonStreamAnswer#summarizeUsageChunk}), on the event loop; beyond
     * them, or unreadable, it counts as missing and the estimate stands in.
     */
    void usageEvent(Buffer usageChunk) {
        ObjectNode summary = NonStreamAnswer.summarizeUsageChunk(usageChunk);
        if (summary != null) {
            usageSeen |= record.usageFrom(summary);
        }
    }

    /** The stream ended with {@code [DONE]}. */
    void streamCompleted() {
        if (lastData != null) {
            record.finishReason(SseEvents.finishReason(lastData, lastDataStart, lastDataEnd));
        }
    }

    /** A whole non-stream answer arrived: {@code summary} holds its usage and finish reasons, {@code body} its bytes. */
    void answerCompleted(ObjectNode summary, Buffer body) {
        usageSeen |= record.usageFrom(summary);
        record.finishReason(summary.path("choices").path(0).path("finish_reason").asText(null));
        if (telemetry.includeContent()) {
            record.content(promptContent(), NonStreamAnswer.choices(body));
        }
    }

    /**
     * Closes the record. A request that relayed an answer (committed) but never got the backend's usage is given an
     * estimate: the prompt's counted tokens and one token per data event after the role chunk.
     */
    void close(boolean committed, Outcome outcome, int status, String errorCode) {
        if (!usageSeen && committed) {
            record.usage(request.promptTokens(), Math.max(0, record.tokenEvents() - 1), true);
        }
        if (telemetry.includeContent() && outcome != Outcome.COMPLETED) {
            record.content(promptContent(), null);
        }
        telemetry.close(record, outcome, status, errorCode);
    }

    private JsonNode promptContent() {
        return request.body().has("messages") ? request.body().get("messages") : request.body().get("prompt");
    }
}

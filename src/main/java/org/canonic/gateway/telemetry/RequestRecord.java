package org.canonic.gateway.telemetry;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Everything the gateway tells its ledger about one request: who asked what, which backends were tried and how
 * each attempt ended, timings, usage and the outcome. Filled in along the request path on the request's event loop,
 * closed exactly once, then serialized off that path by the ledger. It holds ids, names, numbers and outcome
 * classes only; prompt and completion text appear only when the operator opted in.
 */
public final class RequestRecord {

    private static final JsonFactory JSON = new JsonFactory();

    private final String requestId;
    private final long startNanos;
    private final long startEpochMs;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Runs once, when the record closes: gives back what the request held (its key's limits). */
    private volatile Runnable onClose;
    private final List<AttemptRecord> attempts = new ArrayList<>();

    private String keyId;
    private String route;
    private String model;
    private String operation;
    private boolean stream;
    private String backend;
    private int maxTokens;
    /** How routing placed it: the policy, why the backend that served it was chosen, the prefix it held. */
    private String policy;
    private String reason;
    private int matchedBlocks;
    private int promptBlocks;
    /** The backend a hedge raced on, and how the race ended ({@code won}, {@code cancelled}, {@code failed}). */
    private String hedgeBackend;
    private long hedgeAfterMs;
    private String hedgeOutcome;
    private long firstTokenNanos;
    private long lastTokenNanos;
    private int tokenEvents;
    private int promptTokens = -1;
    private int completionTokens = -1;
    private boolean usageEstimated;
    private String finishReason;
    private Outcome outcome;
    private int status;
    private String errorCode;
    private long endEpochMs;
    private long elapsedMs;
    private JsonNode promptContent;
    private JsonNode completionContent;
    /** The request's spans when tracing is on, else null. */
    private RequestTrace trace;

    public RequestRecord(String requestId, long startNanos) {
        this.requestId = requestId;
        this.startNanos = startNanos;
        this.startEpochMs = System.currentTimeMillis();
    }

    public String requestId() {
        return requestId;
    }

    public RequestRecord request(String keyId, String route, String model, String operation, boolean stream) {
        this.keyId = keyId;
        this.route = route;
        this.model = model;
        this.operation = operation;
        this.stream = stream;
        return this;
    }

    public void attempt(AttemptRecord attempt) {
        attempts.add(attempt);
    }

    public void backend(String backend, int maxTokens) {
        this.backend = backend;
        this.maxTokens = maxTokens;
    }

    /**
     * How routing placed the request on its backend: the route's policy, why this backend ({@code prefix},
     * {@code session}, {@code least_loaded}, {@code ordered}, {@code fallback}), how many leading prompt blocks the
     * route's index believed it held and how many the prompt has.
     */
    public void routing(String policy, String reason, int matchedBlocks, int promptBlocks) {
        this.policy = policy;
        this.reason = reason;
        this.matchedBlocks = matchedBlocks;
        this.promptBlocks = promptBlocks;
    }

    /** A hedge was started on {@code backend}, {@code afterMs} after the attempt it races. */
    public void hedge(String backend, long afterMs) {
        this.hedgeBackend = backend;
        this.hedgeAfterMs = afterMs;
    }

    /** How the hedge race ended: {@code won} (the hedge answered first), {@code cancelled}, {@code failed}. */
    public void hedgeOutcome(String outcome) {
        this.hedgeOutcome = outcome;
    }

    /** A data event was relayed; the first one is the time to first token. */
    public void tokenEvent(long nanos) {
        if (tokenEvents++ == 0) {
            firstTokenNanos = nanos;
        }
        lastTokenNanos = nanos;
    }

    public void usage(int prompt, int completion, boolean estimated) {
        this.promptTokens = prompt;
        this.completionTokens = completion;
        this.usageEstimated = estimated;
    }

    /** Reads OpenAI's {@code usage} object from a body or a usage chunk; false when there is none. */
    public boolean usageFrom(JsonNode body) {
        JsonNode usage = body.path("usage");
        if (!usage.isObject()) {
            return false;
        }
        usage(usage.path("prompt_tokens").asInt(0), usage.path("completion_tokens").asInt(0), false);
        return true;
    }

    public void finishReason(String finishReason) {
        this.finishReason = finishReason;
    }

    /** Opt-in only: the request's messages (or prompt) and the completion, for ledgers that must hold them. */
    public void content(JsonNode prompt, JsonNode completion) {
        this.promptContent = prompt;
        this.completionContent = completion;
    }

    /** Sets how the request ended; returns false if it was already closed (the record is closed exactly once). */
    boolean close(Outcome outcome, int status, String errorCode) {
        if (!closed.compareAndSet(false, true)) {
            return false;
        }
        this.outcome = outcome;
        this.status = status;
        this.errorCode = errorCode;
        this.endEpochMs = System.currentTimeMillis();
        this.elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
        return true;
    }

    /** Registers what to give back when the request ends, whatever its fate. */
    public void whenClosed(Runnable action) {
        this.onClose = action;
    }

    void runCloseAction() {
        Runnable action = onClose;
        if (action != null) {
            action.run();
        }
    }

    /** Tokens the request used (prompt + completion), or -1 when the backend never reported them. */
    public long usedTokens() {
        return promptTokens() >= 0 && completionTokens() >= 0 ? (long) promptTokens() + completionTokens() : -1;
    }

    public boolean isClosed() {
        return closed.get();
    }

    // ---- read by metrics and the usage aggregate ---------------------------------------------------------------

    /** The request's spans, or null when tracing is off. */
    public RequestTrace trace() {
        return trace;
    }

    void trace(RequestTrace trace) {
        this.trace = trace;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public String errorCode() {
        return errorCode;
    }

    /** When the request arrived (epoch ms). */
    public long startedAtMs() {
        return startEpochMs;
    }

    /** The client key's id (null without client keys). */
    public String keyId() {
        return keyId;
    }

    /** The model name the client asked for. */
    public String model() {
        return model;
    }

    /** When the record closed (epoch ms): the {@code ended_at} of its ledger line. */
    public long endedAtMs() {
        return endEpochMs;
    }

    public String route() {
        return route;
    }

    public String backend() {
        return backend;
    }

    public String operation() {
        return operation;
    }

    public Outcome outcome() {
        return outcome;
    }

    public int status() {
        return status;
    }

    public long elapsedMs() {
        return elapsedMs;
    }

    public List<AttemptRecord> attempts() {
        return attempts;
    }

    /** The routing policy that placed it (null when it never reached routing). */
    public String policy() {
        return policy;
    }

    /** Why its backend was chosen (null when it never reached routing). */
    public String reason() {
        return reason;
    }

    public int matchedBlocks() {
        return matchedBlocks;
    }

    public int promptBlocks() {
        return promptBlocks;
    }

    /** Whether a hedge was started for it. */
    public boolean hedged() {
        return hedgeBackend != null;
    }

    /** How its hedge race ended, or null. */
    public String hedgeOutcome() {
        return hedgeOutcome;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int completionTokens() {
        return completionTokens;
    }

    public boolean usageEstimated() {
        return usageEstimated;
    }

    public String finishReason() {
        return finishReason;
    }

    /** Milliseconds from arrival to the first relayed data event, or -1 when none was relayed. */
    public double timeToFirstTokenMs() {
        return tokenEvents == 0 ? -1 : (firstTokenNanos - startNanos) / 1e6;
    }

    /** Mean milliseconds between relayed data events after the first, or -1 with fewer than two. */
    public double timePerOutputTokenMs() {
        return tokenEvents < 2 ? -1 : (lastTokenNanos - firstTokenNanos) / 1e6 / (tokenEvents - 1);
    }

    /** Data events relayed so far (a token each, give or take the role and finish chunks). */
    public int tokenEvents() {
        return tokenEvents;
    }

    /** The record as one JSON line. */
    public String toJson() {
        StringWriter out = new StringWriter(1024); // a line with one attempt is ~550 characters
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            LedgerJson.string(json, LedgerJson.REQUEST_ID, requestId);
            LedgerJson.string(json, LedgerJson.STARTED_AT, LedgerJson.utc(startEpochMs));
            LedgerJson.string(json, LedgerJson.ENDED_AT, LedgerJson.utc(endEpochMs));
            LedgerJson.string(json, LedgerJson.KEY_ID, keyId);
            LedgerJson.string(json, LedgerJson.ROUTE, route);
            LedgerJson.string(json, LedgerJson.MODEL, model);
            LedgerJson.string(json, LedgerJson.OPERATION, operation);
            json.writeFieldName(LedgerJson.STREAM);
            json.writeBoolean(stream);
            LedgerJson.string(json, LedgerJson.BACKEND, backend);
            json.writeFieldName(LedgerJson.ATTEMPTS);
            json.writeStartArray();
            for (AttemptRecord attempt : attempts) {
                json.writeStartObject();
                LedgerJson.string(json, LedgerJson.BACKEND, attempt.backend());
                LedgerJson.number(json, LedgerJson.TRY, attempt.tryNumber());
                LedgerJson.string(json, LedgerJson.OUTCOME, attempt.outcome().label());
                LedgerJson.string(json, LedgerJson.FAULT, attempt.outcome().fault().label());
                LedgerJson.number(json, LedgerJson.STATUS, attempt.status());
                LedgerJson.number(json, LedgerJson.ELAPSED_MS, attempt.elapsedMs());
                if (attempt.hedge()) {
                    json.writeFieldName(LedgerJson.HEDGE);
                    json.writeBoolean(true);
                }
                json.writeEndObject();
            }
            json.writeEndArray();
            if (policy != null) {
                writeRouting(json);
            }
            writeTimeToFirstToken(json, timeToFirstTokenMs());
            LedgerJson.number(json, LedgerJson.ELAPSED_MS, elapsedMs);
            if (maxTokens > 0) {
                LedgerJson.number(json, LedgerJson.MAX_TOKENS, maxTokens);
            }
            json.writeFieldName(LedgerJson.USAGE);
            if (promptTokens >= 0 || completionTokens >= 0) {
                json.writeStartObject();
                LedgerJson.number(json, LedgerJson.PROMPT_TOKENS, Math.max(0, promptTokens));
                LedgerJson.number(json, LedgerJson.COMPLETION_TOKENS, Math.max(0, completionTokens));
                LedgerJson.number(json, LedgerJson.TOTAL_TOKENS,
                        Math.max(0, promptTokens) + Math.max(0, completionTokens));
                json.writeFieldName(LedgerJson.ESTIMATED);
                json.writeBoolean(usageEstimated);
                json.writeEndObject();
            } else {
                json.writeNull();
            }
            LedgerJson.string(json, LedgerJson.FINISH_REASON, finishReason);
            LedgerJson.string(json, LedgerJson.OUTCOME, outcome == null ? null : outcome.label());
            LedgerJson.number(json, LedgerJson.STATUS, status);
            LedgerJson.string(json, LedgerJson.ERROR_CODE, errorCode);
            // Opted-in content: trees as JSON text (a generator without a mapper cannot write a tree itself).
            if (promptContent != null) {
                json.writeFieldName("prompt");
                json.writeRawValue(promptContent.toString());
            }
            if (completionContent != null) {
                json.writeFieldName("completion");
                json.writeRawValue(completionContent.toString());
            }
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private void writeRouting(JsonGenerator json) throws IOException {
        json.writeFieldName(LedgerJson.ROUTING);
        json.writeStartObject();
        LedgerJson.string(json, LedgerJson.POLICY, policy);
        LedgerJson.string(json, LedgerJson.REASON, reason);
        // Only a cache-aware route hashes prompts; elsewhere the counts would be zeros on every line.
        if (promptBlocks > 0) {
            LedgerJson.number(json, LedgerJson.MATCHED_BLOCKS, matchedBlocks);
            LedgerJson.number(json, LedgerJson.PROMPT_BLOCKS, promptBlocks);
        }
        if (hedgeBackend != null) {
            json.writeFieldName(LedgerJson.HEDGE);
            json.writeStartObject();
            LedgerJson.string(json, LedgerJson.BACKEND, hedgeBackend);
            LedgerJson.number(json, LedgerJson.AFTER_MS, hedgeAfterMs);
            LedgerJson.string(json, LedgerJson.OUTCOME, hedgeOutcome == null ? "pending" : hedgeOutcome);
            json.writeEndObject();
        }
        json.writeEndObject();
    }

    private static void writeTimeToFirstToken(JsonGenerator json, double value) throws IOException {
        json.writeFieldName(LedgerJson.TTFT_MS);
        if (value < 0) {
            json.writeNull();
        } else {
            json.writeNumber(Math.round(value * 10) / 10.0);
        }
    }
}

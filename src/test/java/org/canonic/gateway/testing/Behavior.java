package org.canonic.gateway.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What the fake vLLM does with one completion request. Built fluently:
 * {@code Behavior.stream(5).firstTokenDelay(1000).tokenDelay(50)}, {@code Behavior.status(503)},
 * {@code Behavior.hang()}, {@code Behavior.refuseConnection()} (closes the socket at once).
 */
public final class Behavior {

    enum Kind { STREAM, JSON, STATUS, HANG, CLOSE, BIG }

    final Kind kind;
    int tokens = 3;
    long firstTokenDelayMs;
    long tokenDelayMs;
    /** Stream: close the connection abruptly after this many content tokens (-1 = never). */
    int dropAfterTokens = -1;
    /** Stream: stop sending (but keep the connection open) after this many tokens (-1 = never). */
    int stallAfterTokens = -1;
    /** Stream: send an in-band error event after this many tokens (-1 = never). */
    int errorAfterTokens = -1;
    /** Stream: end the response without data: [DONE]. */
    boolean omitDone;
    /** Extra JSON members written into every content chunk's delta (for tool calls, reasoning). */
    String deltaExtra;
    int status = 200;
    String body;
    String contentType = "application/json";
    long responseDelayMs;
    /** Big answer: content bytes, sent in pieces of {@link #pieceBytes} with {@link #pieceDelayMs} between them. */
    int bigBytes;
    int pieceBytes = 64 * 1024;
    long pieceDelayMs;
    List<String> rawEvents = new ArrayList<>();

    private Behavior(Kind kind) {
        this.kind = kind;
    }

    /** A vLLM-style stream of {@code tokens} content chunks ("tok0", "tok1", ...). */
    public static Behavior stream(int tokens) {
        Behavior b = new Behavior(Kind.STREAM);
        b.tokens = tokens;
        return b;
    }

    /** A non-stream vLLM completion with the given content. */
    public static Behavior completion(String content) {
        Behavior b = new Behavior(Kind.JSON);
        b.body = "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion\",\"created\":1730000000,\"model\":\"MODEL\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content + "\"},"
                + "\"logprobs\":null,\"finish_reason\":\"stop\",\"stop_reason\":null}],"
                + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13}}";
        return b;
    }

    /** Any status and JSON body. */
    public static Behavior json(int status, String body) {
        Behavior b = new Behavior(Kind.JSON);
        b.status = status;
        b.body = body;
        return b;
    }

    /** A status with vLLM's current error shape. */
    public static Behavior status(int status) {
        Behavior b = new Behavior(Kind.STATUS);
        b.status = status;
        b.body = "{\"error\":{\"message\":\"fake failure " + status + "\",\"type\":\"Error\",\"param\":null,\"code\":"
                + status + "}}";
        return b;
    }

    /**
     * A non-stream completion whose content is {@code bytes} bytes of text, announced with its Content-Length (as
     * vLLM does) and written in pieces: an answer large enough to weigh on the gateway's memory.
     */
    public static Behavior bigCompletion(int bytes) {
        Behavior b = new Behavior(Kind.BIG);
        b.bigBytes = bytes;
        return b;
    }

    /** Big answers: the pause between two pieces, so that many answers are being collected at once. */
    public Behavior pieceDelay(long ms) {
        this.pieceDelayMs = ms;
        return this;
    }

    /** Reads the request and never answers. */
    public static Behavior hang() {
        return new Behavior(Kind.HANG);
    }

    /** Closes the connection without answering. */
    public static Behavior closeConnection() {
        return new Behavior(Kind.CLOSE);
    }

    public Behavior firstTokenDelay(long ms) {
        this.firstTokenDelayMs = ms;
        return this;
    }

    public Behavior tokenDelay(long ms) {
        this.tokenDelayMs = ms;
        return this;
    }

    public Behavior dropAfter(int tokens) {
        this.dropAfterTokens = tokens;
        return this;
    }

    public Behavior stallAfter(int tokens) {
        this.stallAfterTokens = tokens;
        return this;
    }

    public Behavior errorAfter(int tokens) {
        this.errorAfterTokens = tokens;
        return this;
    }

    public Behavior omitDone() {
        this.omitDone = true;
        return this;
    }

    public Behavior deltaExtra(String jsonMembers) {
        this.deltaExtra = jsonMembers;
        return this;
    }

    public Behavior contentType(String contentType) {
        this.contentType = contentType;
        return this;
    }

    public Behavior responseDelay(long ms) {
        this.responseDelayMs = ms;
        return this;
    }
}

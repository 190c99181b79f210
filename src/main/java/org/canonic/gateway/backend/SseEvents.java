package org.canonic.gateway.backend;

import io.vertx.core.buffer.Buffer;

/**
 * Cheap inspection of one raw SSE event as vLLM writes it. The relay never parses and re-serializes events on the
 * hot path: it only needs to know what kind of event went by, which a few byte comparisons tell.
 */
public final class SseEvents {

    /** What an event is, as far as the gateway cares. */
    public enum Kind {
        /** A comment ({@code : ...}); carries no data, commits nothing. */
        COMMENT,
        /** A {@code data:} event with a JSON chunk. */
        DATA,
        /** A {@code data:} event whose chunk has no choices but carries usage: the final usage chunk. */
        USAGE,
        /** A {@code data:} event carrying {@code {"error":...}}. */
        ERROR,
        /** {@code data: [DONE]}. */
        DONE,
        /** Anything else ({@code event:}, {@code id:}, junk). */
        OTHER
    }

    private static final byte[] DATA_PREFIX = bytes("data:");
    private static final byte[] DONE_PAYLOAD = bytes("[DONE]");
    private static final byte[] ERROR_PAYLOAD = bytes("{\"error\"");
    private static final byte[] EMPTY_CHOICES = bytes("\"choices\":[]");
    private static final byte[] USAGE_KEY = bytes("\"usage\":{");

    private SseEvents() {
    }

    /** Classifies the event held in {@code buffer[start, end)}, delimiter excluded. */
    public static Kind classify(Buffer buffer, int start, int end) {
        if (start >= end) {
            return Kind.OTHER;
        }
        if (buffer.getByte(start) == ':') {
            return Kind.COMMENT;
        }
        if (!startsWith(buffer, start, end, DATA_PREFIX)) {
            return Kind.OTHER;
        }
        int payload = start + DATA_PREFIX.length;
        while (payload < end && buffer.getByte(payload) == ' ') {
            payload++;
        }
        if (startsWith(buffer, payload, end, DONE_PAYLOAD)) {
            return Kind.DONE;
        }
        if (startsWith(buffer, payload, end, ERROR_PAYLOAD)) {
            return Kind.ERROR;
        }
        if (indexOf(buffer, payload, end, EMPTY_CHOICES) >= 0 && indexOf(buffer, payload, end, USAGE_KEY) >= 0) {
            return Kind.USAGE;
        }
        return Kind.DATA;
    }

    /** The JSON payload of a {@code data:} event, for the rare events the gateway reads (usage, errors). */
    public static String payload(Buffer buffer, int start, int end) {
        int payload = start + DATA_PREFIX.length;
        while (payload < end && buffer.getByte(payload) == ' ') {
            payload++;
        }
        return buffer.getString(payload, end);
    }

    private static final byte[] FINISH_REASON = bytes("\"finish_reason\":\"");

    /** The first non-null {@code finish_reason} in an event, or null: read only from the last data event. */
    public static String finishReason(Buffer buffer, int start, int end) {
        int at = indexOf(buffer, start, end, FINISH_REASON);
        if (at < 0) {
            return null;
        }
        int from = at + FINISH_REASON.length;
        for (int i = from; i < end && i - from < 64; i++) {
            if (buffer.getByte(i) == '"') {
                return buffer.getString(from, i);
            }
        }
        return null;
    }

    static boolean startsWith(Buffer buffer, int start, int end, byte[] prefix) {
        if (end - start < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buffer.getByte(start + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    static int indexOf(Buffer buffer, int start, int end, byte[] needle) {
        int last = end - needle.length;
        outer:
        for (int i = start; i <= last; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (buffer.getByte(i + j) != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}

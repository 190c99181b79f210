package org.canonic.gateway.backend;

import io.netty.buffer.ByteBuf;
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
    private static final byte[] CHOICES_KEY = bytes("\"choices\":");
    private static final byte[] USAGE_KEY = bytes("\"usage\":{");

    private SseEvents() {
    }

    /** Classifies the event held in {@code buffer[start, end)}, delimiter excluded. */
    public static Kind classify(Buffer buffer, int start, int end) {
        return classify(buffer.getByteBuf(), start, end);
    }

    /**
     * Classifies the event at positions {@code [start, end)} of {@code bytes} (absolute indices, as Vert.x buffer
     * positions are). A usage
     * chunk is told from a content chunk by its {@code choices} array being empty, which is found by jumping from
     * one {@code [} to the next (Netty's search) instead of comparing every byte.
     */
    public static Kind classify(ByteBuf bytes, int start, int end) {
        if (start >= end) {
            return Kind.OTHER;
        }
        if (bytes.getByte(start) == ':') {
            return Kind.COMMENT;
        }
        if (!startsWith(bytes, start, end, DATA_PREFIX)) {
            return Kind.OTHER;
        }
        int payload = start + DATA_PREFIX.length;
        while (payload < end && bytes.getByte(payload) == ' ') {
            payload++;
        }
        if (startsWith(bytes, payload, end, DONE_PAYLOAD)) {
            return Kind.DONE;
        }
        if (startsWith(bytes, payload, end, ERROR_PAYLOAD)) {
            return Kind.ERROR;
        }
        for (int bracket = bytes.indexOf(payload, end, (byte) '['); bracket >= 0;
             bracket = bytes.indexOf(bracket + 1, end, (byte) '[')) {
            if (endsWith(bytes, payload, bracket, CHOICES_KEY)) {
                boolean empty = bracket + 1 < end && bytes.getByte(bracket + 1) == ']';
                return empty && indexOf(bytes, bracket, end, USAGE_KEY) >= 0 ? Kind.USAGE : Kind.DATA;
            }
        }
        return Kind.DATA;
    }

    /** The JSON payload of a {@code data:} event as a view of the buffer (no copy): for the usage chunk. */
    public static Buffer payloadBuffer(Buffer buffer, int start, int end) {
        int payload = start + DATA_PREFIX.length;
        while (payload < end && buffer.getByte(payload) == ' ') {
            payload++;
        }
        return buffer.slice(payload, end);
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
        ByteBuf bytes = buffer.getByteBuf();
        int at = indexOf(bytes, start, end, FINISH_REASON);
        if (at < 0) {
            return null;
        }
        int from = at + FINISH_REASON.length;
        int quote = bytes.indexOf(from, Math.min(end, from + 64), (byte) '"');
        return quote < 0 ? null : bytes.toString(from, quote - from, java.nio.charset.StandardCharsets.US_ASCII);
    }

    static boolean startsWith(ByteBuf bytes, int start, int end, byte[] prefix) {
        if (end - start < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes.getByte(start + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code [from, at)} ends with {@code suffix}. */
    static boolean endsWith(ByteBuf bytes, int from, int at, byte[] suffix) {
        return at - from >= suffix.length && startsWith(bytes, at - suffix.length, at, suffix);
    }

    /** Absolute index of {@code needle} in {@code [start, end)}, or -1; jumps between candidate first bytes. */
    static int indexOf(ByteBuf bytes, int start, int end, byte[] needle) {
        int last = end - needle.length;
        for (int i = bytes.indexOf(start, end, needle[0]); i >= 0 && i <= last;
             i = bytes.indexOf(i + 1, end, needle[0])) {
            if (startsWith(bytes, i, end, needle)) {
                return i;
            }
        }
        return -1;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }
}

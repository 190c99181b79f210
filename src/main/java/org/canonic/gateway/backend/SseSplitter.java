package org.canonic.gateway.backend;

import io.vertx.core.buffer.Buffer;

/**
 * Cuts an upstream byte stream into whole SSE events (an event ends at a blank line: {@code \n\n} or
 * {@code \r\n\r\n}). Chunks that hold whole events are handed on without copying; only a partial event at the
 * end of a chunk is kept until the rest arrives.
 */
final class SseSplitter {

    /** Receives each whole event: bytes {@code [start, end)} of {@code buffer}, delimiter included. */
    interface Sink {
        void event(Buffer buffer, int start, int contentEnd, int end);
    }

    private final int maxPartialBytes;
    private Buffer partial;

    SseSplitter(int maxPartialBytes) {
        this.maxPartialBytes = maxPartialBytes;
    }

    /**
     * Feeds one chunk; returns false when a partial event grew beyond the limit, which means the upstream is not
     * speaking SSE.
     */
    boolean feed(Buffer chunk, Sink sink) {
        Buffer buffer;
        if (partial == null) {
            buffer = chunk;
        } else {
            buffer = partial.appendBuffer(chunk);
            partial = null;
        }
        int length = buffer.length();
        int eventStart = 0;
        for (int i = 0; i < length; i++) {
            if (buffer.getByte(i) != '\n') {
                continue;
            }
            int delimiterEnd = blankLineEnd(buffer, i + 1, length);
            if (delimiterEnd < 0) {
                continue;
            }
            int contentEnd = i > eventStart && buffer.getByte(i - 1) == '\r' ? i - 1 : i;
            sink.event(buffer, eventStart, contentEnd, delimiterEnd);
            eventStart = delimiterEnd;
            i = delimiterEnd - 1;
        }
        if (eventStart < length) {
            if (length - eventStart > maxPartialBytes) {
                return false;
            }
            partial = Buffer.buffer(length - eventStart + 256).appendBuffer(buffer, eventStart, length - eventStart);
        }
        return true;
    }

    /** True while bytes of an unfinished event are held back. */
    boolean hasPartialEvent() {
        return partial != null && partial.length() > 0;
    }

    /** After a line feed at {@code from - 1}: the end of the blank line that follows, or -1. */
    private static int blankLineEnd(Buffer buffer, int from, int length) {
        if (from < length && buffer.getByte(from) == '\n') {
            return from + 1;
        }
        if (from + 1 < length && buffer.getByte(from) == '\r' && buffer.getByte(from + 1) == '\n') {
            return from + 2;
        }
        return -1;
    }
}

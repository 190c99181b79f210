package org.canonic.gateway.backend;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import io.vertx.core.buffer.Buffer;

/**
 * Cuts an upstream byte stream into whole SSE events (an event ends at a blank line: {@code \n\n} or
 * {@code \r\n\r\n}). Chunks that hold whole events are handed on without copying; only a partial event at the
 * end of a chunk is kept until the rest arrives. Line feeds are found with Netty's own byte search, which is what
 * keeps this off the profile: a stream of 32 tokens is about 6 KB to scan.
 */
final class SseSplitter {

    /** Receives each whole event: bytes {@code [start, end)} of {@code buffer} (and of its {@code bytes}). */
    interface Sink {
        void event(Buffer buffer, ByteBuf bytes, int start, int contentEnd, int end);
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
        // Vert.x buffer positions are absolute indices of the underlying ByteBuf.
        ByteBuf bytes = buffer.getByteBuf();
        int length = buffer.length();
        int eventStart = 0;
        int from = 0;
        while (from < length) {
            int lineFeed = bytes.forEachByte(from, length - from, ByteProcessor.FIND_LF);
            if (lineFeed < 0) {
                break;
            }
            int at = lineFeed;
            int delimiterEnd = blankLineEnd(bytes, at + 1, length);
            if (delimiterEnd < 0) {
                from = at + 1;
                continue;
            }
            int contentEnd = at > eventStart && bytes.getByte(at - 1) == '\r' ? at - 1 : at;
            sink.event(buffer, bytes, eventStart, contentEnd, delimiterEnd);
            eventStart = delimiterEnd;
            from = delimiterEnd;
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
    private static int blankLineEnd(ByteBuf bytes, int from, int length) {
        if (from < length && bytes.getByte(from) == '\n') {
            return from + 1;
        }
        if (from + 1 < length && bytes.getByte(from) == '\r' && bytes.getByte(from + 1) == '\n') {
            return from + 2;
        }
        return -1;
    }
}

package org.canonic.gateway.relay;

import io.vertx.core.buffer.Buffer;

/**
 * Collects the relayed events of one upstream chunk into one client write: consecutive events of the same chunk are
 * one slice of its buffer, so the common case (a chunk of whole events, all relayed) is written without a copy.
 */
public final class EventBatch {

    private final ClientChannel client;
    private Buffer buffer;
    private int start;
    private int end;

    public EventBatch(ClientChannel client) {
        this.client = client;
    }

    /** Adds bytes {@code [from, to)} of {@code source}; a gap (a skipped event) flushes what was collected. */
    public void add(Buffer source, int from, int to) {
        if (buffer == source && end == from) {
            end = to;
            return;
        }
        flush();
        buffer = source;
        start = from;
        end = to;
    }

    /** Writes what was collected. */
    public void flush() {
        if (buffer != null) {
            client.write(start == 0 && end == buffer.length() ? buffer : buffer.slice(start, end));
            buffer = null;
        }
    }
}

package org.canonic.gateway.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects relayed events into one client write per read of the upstream socket.
 *
 * <p>One read from the backend often holds many events, and the HTTP client hands them over one HTTP chunk at a time
 * (vLLM writes each event as its own chunk). Writing each chunk's events at once cost a write and a flush (a system
 * call) per event; instead the events are collected and written once the event loop has finished handling what it
 * read ({@link #flushSoon()}: a task that runs after the read, in the same loop iteration, so no event waits for
 * anything but the rest of its read). Consecutive events of one chunk are one slice of its buffer, and the slices of
 * several chunks are written as one composite buffer, so nothing is copied. The events written are always whole.
 */
public final class EventBatch {

    private final ClientChannel client;
    private final Vertx vertx;
    private final Runnable afterWrite;
    private final io.vertx.core.Handler<Void> scheduledFlush = v -> flushScheduled();
    private Context context;
    private boolean scheduled;
    /** Slices of earlier chunks waiting for the write, null while there are none. */
    private List<ByteBuf> earlier;
    private Buffer buffer;
    private int start;
    private int end;

    /**
     * @param afterWrite runs after each write {@link #flushSoon()} made (the owner's backpressure check)
     */
    public EventBatch(ClientChannel client, Vertx vertx, Runnable afterWrite) {
        this.client = client;
        this.vertx = vertx;
        this.afterWrite = afterWrite;
    }

    /** Adds bytes {@code [from, to)} of {@code source}: whole events, in the order they are to be written. */
    public void add(Buffer source, int from, int to) {
        if (buffer == source && end == from) {
            end = to;
            return;
        }
        if (buffer != null) {
            if (earlier == null) {
                earlier = new ArrayList<>(4);
            }
            earlier.add(buffer.slice(start, end).getByteBuf());
        }
        buffer = source;
        start = from;
        end = to;
    }

    /** Writes what was collected once the current read is handled (on the caller's event loop). */
    public void flushSoon() {
        if (buffer == null || scheduled) {
            return;
        }
        scheduled = true;
        if (context == null) {
            context = vertx.getOrCreateContext();
        }
        context.runOnContext(scheduledFlush);
    }

    /** Writes what was collected now. */
    public void flush() {
        Buffer collected = take();
        if (collected != null) {
            client.write(collected);
        }
    }

    /** What was collected, as one buffer (null when nothing was); the batch is then empty. */
    public Buffer take() {
        if (buffer == null) {
            return null;
        }
        Buffer collected;
        if (earlier == null) {
            collected = start == 0 && end == buffer.length() ? buffer : buffer.slice(start, end);
        } else {
            earlier.add(buffer.slice(start, end).getByteBuf());
            collected = Buffer.buffer(Unpooled.wrappedUnmodifiableBuffer(earlier.toArray(new ByteBuf[0])));
            earlier = null;
        }
        buffer = null;
        return collected;
    }

    private void flushScheduled() {
        scheduled = false;
        if (buffer != null) {
            flush();
            afterWrite.run();
        }
    }
}

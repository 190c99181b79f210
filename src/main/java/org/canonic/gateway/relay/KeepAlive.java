package org.canonic.gateway.relay;

import io.vertx.core.Vertx;

import java.util.function.LongSupplier;

/**
 * Keeps a silent stream alive through proxies that cut silent responses (Cloudflare: ~100 s): whenever the client
 * has received nothing for an interval, an SSE comment ({@code : keep-alive}) goes out. If the status line is still
 * held back at that moment, {@code openHead} sends it first: comments carry no data, so the exchange may still move
 * on to another backend afterwards.
 *
 * <p>One timer, not one per write: when it fires it checks how long the client has been without bytes and either
 * writes a comment or sleeps for the remainder.
 */
public final class KeepAlive {

    private final Vertx vertx;
    private final ClientChannel client;
    private final long intervalMs;
    private final LongSupplier elapsedMs;
    private final Runnable openHead;
    private long timer = -1;
    private boolean stopped;

    /**
     * @param elapsedMs time since the request arrived (the silence before the head is out)
     * @param openHead  sends the 200 head when it is still held back
     */
    public KeepAlive(Vertx vertx, ClientChannel client, long intervalMs, LongSupplier elapsedMs, Runnable openHead) {
        this.vertx = vertx;
        this.client = client;
        this.intervalMs = intervalMs;
        this.elapsedMs = elapsedMs;
        this.openHead = openHead;
    }

    public void start() {
        schedule(intervalMs);
    }

    public void stop() {
        stopped = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private void schedule(long delayMs) {
        timer = vertx.setTimer(Math.max(1, delayMs), id -> {
            timer = -1;
            if (stopped) {
                return;
            }
            long silentMs = client.headersSent()
                    ? (System.nanoTime() - client.lastWriteNanos()) / 1_000_000
                    : elapsedMs.getAsLong();
            if (silentMs + 1 >= intervalMs) {
                if (!client.headersSent()) {
                    openHead.run();
                }
                client.keepAlive();
                schedule(intervalMs);
            } else {
                schedule(intervalMs - silentMs);
            }
        });
    }
}

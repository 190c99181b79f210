package org.canonic.gateway.routing;

import io.vertx.core.Vertx;
import org.canonic.gateway.fleet.BackendSlots;
import org.canonic.gateway.fleet.LiveBackend;

import java.util.function.Consumer;

/**
 * One request's waits for backend slots, under one bound for all of them ({@code gateway.defaults.concurrency-wait}):
 * the request waits in its preferred candidate's FIFO queue, and a later candidate (or another try) gets only what is
 * left, so no request waits longer than the bound before its 429, however many candidates it has. A request that ends
 * while it waits (its client left, its non-stream bound passed) leaves the queue at once: it holds no place a waiting
 * request behind it could use, and nothing is ever sent upstream for it.
 *
 * <p>Used on the request's event loop only.
 */
final class SlotWaits {

    private final Vertx vertx;
    private final String keyId;
    private long leftNanos;
    private BackendSlots.Wait pending = BackendSlots.Wait.NONE;

    SlotWaits(Vertx vertx, long boundMs, String keyId) {
        this.vertx = vertx;
        this.keyId = keyId;
        this.leftNanos = Math.max(0, boundMs) * 1_000_000L;
    }

    /** Takes a slot of {@code backend} now or within what is left of the bound; {@code granted} says which. */
    void acquire(LiveBackend backend, Consumer<Boolean> granted) {
        long started = System.nanoTime();
        pending = backend.slots().acquire(vertx, leftNanos / 1_000_000L, keyId, ok -> {
            pending = BackendSlots.Wait.NONE;
            leftNanos = Math.max(0, leftNanos - (System.nanoTime() - started));
            granted.accept(ok);
        });
    }

    /** Leaves the queue the request waits in, if any; its callback is then never called. */
    void cancel() {
        pending.cancel();
        pending = BackendSlots.Wait.NONE;
    }
}

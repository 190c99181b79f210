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
    /** Numbers the acquisitions, so that one answered at once cannot overwrite the wait of the next it led to. */
    private int acquisitions;

    SlotWaits(Vertx vertx, long boundMs, String keyId) {
        this.vertx = vertx;
        this.keyId = keyId;
        this.leftNanos = Math.max(0, boundMs) * 1_000_000L;
    }

    /** Takes a slot of {@code backend} now or within what is left of the bound; {@code granted} says which. */
    void acquire(LiveBackend backend, Consumer<Boolean> granted) {
        long started = System.nanoTime();
        int acquisition = ++acquisitions;
        BackendSlots.Wait wait = backend.slots().acquire(vertx, leftNanos / 1_000_000L, keyId, ok -> {
            if (acquisition == acquisitions) {
                pending = BackendSlots.Wait.NONE;
            }
            leftNanos = Math.max(0, leftNanos - (System.nanoTime() - started));
            granted.accept(ok);
        });
        // Answered at once, the callback may already have moved on and be waiting on another candidate: that wait is
        // the one to cancel then, not this finished one.
        if (acquisition == acquisitions) {
            pending = wait;
        }
    }

    /** Leaves the queue the request waits in, if any; its callback is then never called. */
    void cancel() {
        pending.cancel();
        pending = BackendSlots.Wait.NONE;
    }
}

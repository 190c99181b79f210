package org.canonic.gateway.routing;

import io.vertx.core.Vertx;
import org.canonic.gateway.fleet.BackendSlots;
import org.canonic.gateway.fleet.LiveBackend;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One request's waits for backend slots, under one bound for all of them ({@code gateway.defaults.concurrency-wait}):
 * no request waits longer than the bound before its 429, however many candidates or tries it has. A request that ends
 * while it waits (its client left, its non-stream bound passed) leaves every queue at once: it holds no place a
 * waiting request behind it could use, and nothing is ever sent upstream for it.
 *
 * <p>Two ways to wait: in one backend's FIFO queue ({@link #acquire}: a retry on the same backend, and the
 * {@code ordered} policy, which queues at its preferred candidate), or in the queues of several candidates at once
 * ({@link #acquireAny}), taking whichever slot frees first: a full backend then never holds a request while another
 * candidate gets room.
 *
 * <p>Used on the request's event loop only.
 */
final class SlotWaits {

    private final Vertx vertx;
    private final String keyId;
    private long leftNanos;
    private Runnable pending = () -> { };
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
                pending = () -> { };
            }
            spend(started);
            granted.accept(ok);
        });
        // Answered at once, the callback may already have moved on and be waiting on another candidate: that wait is
        // the one to cancel then, not this finished one.
        if (acquisition == acquisitions) {
            pending = wait::cancel;
        }
    }

    /**
     * Waits in every one of {@code backends}' queues at once, within what is left of the bound, for the first slot to
     * come free: {@code granted} gets its backend, or null when none had one in time. A second slot granted in the
     * same instant is given straight back.
     */
    void acquireAny(List<LiveBackend> backends, Consumer<LiveBackend> granted) {
        long started = System.nanoTime();
        int acquisition = ++acquisitions;
        First first = new First(backends.size());
        List<BackendSlots.Wait> waits = new ArrayList<>(backends.size());
        Runnable cancelAll = () -> {
            first.done = true;
            waits.forEach(BackendSlots.Wait::cancel);
        };
        for (LiveBackend backend : backends) {
            if (first.done) {
                break;
            }
            waits.add(backend.slots().acquire(vertx, leftNanos / 1_000_000L, keyId, ok -> {
                if (ok && first.done) {
                    // Granted while another had already won (or the request ended): not needed.
                    backend.slots().release(keyId);
                    return;
                }
                if (first.done || (!ok && ++first.refused < first.asked)) {
                    return;
                }
                cancelAll.run();
                if (acquisition == acquisitions) {
                    pending = () -> { };
                }
                spend(started);
                granted.accept(ok ? backend : null);
            }));
        }
        if (acquisition == acquisitions && !first.done) {
            pending = cancelAll;
        }
    }

    /** Leaves every queue the request waits in; their callbacks are then never called (a late grant is returned). */
    void cancel() {
        pending.run();
        pending = () -> { };
    }

    private void spend(long startedNanos) {
        leftNanos = Math.max(0, leftNanos - (System.nanoTime() - startedNanos));
    }

    /** The state of one {@link #acquireAny}: decided once, by the first grant or the last refusal. */
    private static final class First {
        final int asked;
        int refused;
        boolean done;

        First(int asked) {
            this.asked = asked;
        }
    }
}

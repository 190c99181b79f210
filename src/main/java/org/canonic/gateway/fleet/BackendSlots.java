package org.canonic.gateway.fleet;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The in-flight limit of one backend. A slot is held for an attempt's whole life (a stream holds it until its last
 * byte, not just until headers). A request that finds the backend full waits a short, bounded time for a slot
 * and then moves on to the next candidate. Nothing here blocks a thread: waiters are callbacks, and a released
 * slot is handed straight to the oldest waiter, on that waiter's own event loop.
 */
public final class BackendSlots {

    private volatile int max;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Queue<Waiter> waiters = new ConcurrentLinkedQueue<>();
    /** Called whenever the last request in flight gave its slot back (a drain waits for that). */
    private final Runnable onIdle;
    private volatile long lastReleaseMs;

    BackendSlots(int max, Runnable onIdle) {
        this.max = max;
        this.onIdle = onIdle;
    }

    /** Changes the limit for requests that arrive from now on; requests in flight keep their slots. */
    void max(int max) {
        this.max = max;
    }

    /** When a request on this backend last ended (epoch ms, 0 = never): "served recently" for lifecycle guards. */
    public long lastReleaseMs() {
        return lastReleaseMs;
    }

    public int inFlight() {
        return inFlight.get();
    }

    public int max() {
        return max;
    }

    /**
     * Takes a slot now, or within {@code waitMs}; {@code granted} is then called on the caller's context with
     * {@code true}, or with {@code false} when the wait ran out.
     */
    public void acquire(Vertx vertx, long waitMs, Consumer<Boolean> granted) {
        if (tryAcquire()) {
            granted.accept(true);
            return;
        }
        if (waitMs <= 0) {
            granted.accept(false);
            return;
        }
        Waiter waiter = new Waiter(vertx.getOrCreateContext(), granted);
        waiters.add(waiter);
        // A slot may have been released between the failed try and the enqueue: try once more.
        if (tryAcquire()) {
            if (waiter.claim()) {
                waiters.remove(waiter);
                granted.accept(true);
            } else {
                release();
            }
            return;
        }
        waiter.timer = vertx.setTimer(waitMs, id -> {
            if (waiter.claim()) {
                waiters.remove(waiter);
                granted.accept(false);
            }
        });
    }

    /** Gives a slot back: to the oldest waiter if there is one, otherwise to the pool. */
    public void release() {
        lastReleaseMs = System.currentTimeMillis();
        Waiter next;
        while ((next = waiters.poll()) != null) {
            if (next.claim()) {
                Waiter handedTo = next;
                handedTo.context.runOnContext(v -> {
                    handedTo.context.owner().cancelTimer(handedTo.timer);
                    handedTo.granted.accept(true);
                });
                return;
            }
        }
        if (inFlight.decrementAndGet() == 0) {
            onIdle.run();
        }
    }

    private boolean tryAcquire() {
        int current;
        do {
            current = inFlight.get();
            if (current >= max) {
                return false;
            }
        } while (!inFlight.compareAndSet(current, current + 1));
        return true;
    }

    private static final class Waiter {
        final Context context;
        final Consumer<Boolean> granted;
        final AtomicBoolean claimed = new AtomicBoolean();
        volatile long timer = -1;

        Waiter(Context context, Consumer<Boolean> granted) {
            this.context = context;
            this.granted = granted;
        }

        boolean claim() {
            return claimed.compareAndSet(false, true);
        }
    }
}

package org.canonic.gateway.fleet;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The in-flight limit of one backend, shared fairly between client keys. A slot is held for an attempt's whole life
 * (a stream holds it until its last byte, not just until headers). A request that finds the backend full waits a
 * short, bounded time for a slot and then moves on to the next candidate.
 *
 * <p>Fair share: while requests of other keys wait, a key that already holds its share of the backend
 * ({@code max / keys holding or waiting}) takes no further slot ahead of them, and a released slot goes to the waiter
 * whose key holds the fewest slots (the oldest among equals). One busy tenant can fill an idle backend, but cannot
 * keep the others out of it once they ask.
 *
 * <p>Nothing here blocks a thread for long: the state is guarded by this object's monitor for a few operations,
 * waiters are callbacks, and a released slot is handed to its waiter on that waiter's own event loop.
 */
public final class BackendSlots {

    private int max;
    private int inFlight;
    private final Map<String, Integer> held = new HashMap<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** Called whenever the last request in flight gave its slot back (a drain waits for that). */
    private final Runnable onIdle;
    private volatile long lastReleaseMs;

    BackendSlots(int max, Runnable onIdle) {
        this.max = max;
        this.onIdle = onIdle;
    }

    /** Changes the limit for requests that arrive from now on; requests in flight keep their slots. */
    synchronized void max(int max) {
        this.max = max;
    }

    public synchronized int max() {
        return max;
    }

    public synchronized int inFlight() {
        return inFlight;
    }

    /** Requests waiting for a slot now. */
    public synchronized int waiting() {
        return waiters.size();
    }

    /** When a request on this backend last ended (epoch ms, 0 = never): "served recently" for lifecycle guards. */
    public long lastReleaseMs() {
        return lastReleaseMs;
    }

    /**
     * Takes a slot for {@code key} now, or within {@code waitMs}; {@code granted} is then called on the caller's
     * context with {@code true}, or with {@code false} when the wait ran out.
     */
    public void acquire(Vertx vertx, long waitMs, String key, Consumer<Boolean> granted) {
        Waiter waiter = null;
        boolean taken = false;
        synchronized (this) {
            if (mayTake(key)) {
                take(key);
                taken = true;
            } else if (waitMs > 0) {
                waiter = new Waiter(vertx.getOrCreateContext(), key, granted);
                waiters.add(waiter);
            }
        }
        if (waiter == null) {
            granted.accept(taken);
            return;
        }
        Waiter queued = waiter;
        queued.timer = vertx.setTimer(waitMs, id -> {
            boolean expired;
            synchronized (this) {
                expired = waiters.remove(queued);
            }
            if (expired) {
                granted.accept(false);
            }
        });
    }

    /** Gives {@code key}'s slot back: to the fairest waiter if there is one, otherwise to the pool. */
    public void release(String key) {
        lastReleaseMs = System.currentTimeMillis();
        Waiter next;
        boolean idle;
        synchronized (this) {
            inFlight--;
            held.merge(key, -1, (a, b) -> a + b == 0 ? null : a + b);
            next = fairestWaiter();
            if (next != null) {
                take(next.key);
            }
            idle = inFlight == 0;
        }
        if (next != null) {
            Waiter handedTo = next;
            handedTo.context.runOnContext(v -> {
                handedTo.context.owner().cancelTimer(handedTo.timer);
                handedTo.granted.accept(true);
            });
        } else if (idle) {
            onIdle.run();
        }
    }

    private boolean mayTake(String key) {
        if (inFlight >= max) {
            return false;
        }
        for (Waiter waiter : waiters) {
            if (!waiter.key.equals(key)) {
                // Others wait: only a key under its fair share goes ahead of them.
                return held.getOrDefault(key, 0) < fairShare();
            }
        }
        return true;
    }

    /** The waiter whose key holds the fewest slots (the oldest among equals), if a slot is free for it. */
    private Waiter fairestWaiter() {
        if (inFlight >= max || waiters.isEmpty()) {
            return null;
        }
        Waiter best = null;
        int fewest = Integer.MAX_VALUE;
        for (Waiter waiter : waiters) {
            int count = held.getOrDefault(waiter.key, 0);
            if (count < fewest) {
                best = waiter;
                fewest = count;
            }
        }
        waiters.remove(best);
        return best;
    }

    private int fairShare() {
        Set<String> keys = new HashSet<>(held.keySet());
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            keys.add(it.next().key);
        }
        return Math.max(1, max / Math.max(1, keys.size()));
    }

    private void take(String key) {
        inFlight++;
        held.merge(key, 1, Integer::sum);
    }

    private static final class Waiter {
        final Context context;
        final String key;
        final Consumer<Boolean> granted;
        volatile long timer = -1;

        Waiter(Context context, String key, Consumer<Boolean> granted) {
            this.context = context;
            this.key = key;
            this.granted = granted;
        }
    }
}

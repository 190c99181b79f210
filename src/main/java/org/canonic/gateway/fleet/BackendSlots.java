package org.canonic.gateway.fleet;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;

/**
 * The in-flight limit of one backend, shared fairly between client keys. A slot is held for an attempt's whole life
 * (a stream holds it until its last byte, not just until headers). A request that finds the backend full waits in a
 * FIFO queue for a bounded time and then moves on to the next candidate; a request that ends while it waits (its
 * client left) leaves the queue at once.
 *
 * <p>The limit is either fixed (an explicit {@code max-concurrency}) or {@link AdaptiveLimit adaptive}: learned from
 * each attempt's time to first token and the backend's overload signals. A limit that grows hands the new slots to
 * waiting requests at once.
 *
 * <p>Fair share: while requests of other keys wait, a key that already holds its share of the backend
 * ({@code limit / keys holding or waiting}) takes no further slot ahead of them, and a released slot goes to the
 * waiter whose key holds the fewest slots (the oldest among equals). One busy tenant can fill an idle backend, but
 * cannot keep the others out of it once they ask. Among requests of one key the queue is strictly FIFO.
 *
 * <p>Nothing here blocks a thread for long: the state is guarded by this object's monitor for a few operations,
 * waiters are callbacks, and a slot is handed to its waiter on that waiter's own event loop.
 */
public final class BackendSlots {

    /** A request waiting for a slot; {@link #cancel()} takes it out of the queue. */
    public interface Wait {
        Wait NONE = () -> false;

        /** Leaves the queue now; false when it was no longer queued (granted, expired, or never queued). */
        boolean cancel();
    }

    /** An explicit limit (no adaptation), or 0 for the adaptive one. */
    private volatile int fixed;
    private final AdaptiveLimit adaptive;
    /** What the adaptive limit learned, published for readers that take no lock (routing). */
    private volatile int adaptiveLimit;
    /** This replica's part of a limit shared by every replica (identity when alone): see {@link #limit()}. */
    private final IntUnaryOperator share;
    /** Changed under the monitor only; volatile so that routing reads it without taking the monitor. */
    private volatile int inFlight;
    /** The queue's length, published the same way. */
    private volatile int queued;
    private final Map<String, Integer> held = new HashMap<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** Called whenever the last request in flight gave its slot back (a drain waits for that). */
    private final Runnable onIdle;
    private volatile long lastReleaseMs;

    BackendSlots(int fixed, AdaptiveLimit adaptive, IntUnaryOperator share, Runnable onIdle) {
        this.fixed = fixed;
        this.adaptive = adaptive;
        this.adaptiveLimit = adaptive.limit();
        this.share = share;
        this.onIdle = onIdle;
    }

    /** Changes to a fixed limit ({@code > 0}) or back to the adaptive one (0); requests in flight keep their slots. */
    void fixed(int fixed) {
        List<Waiter> granted;
        synchronized (this) {
            this.fixed = fixed;
            granted = grantFree();
        }
        handOver(granted);
    }

    /**
     * The limit now: this replica's share of the fixed one, or what the adaptive limit learned, at most this
     * replica's share of the adaptive ceiling. Replicas sharing a state store split what is configured (the explicit
     * maximum, the ceiling), so together they never admit more than it; within its share each replica's adaptive
     * limit follows the backend's latency, which already reflects every replica's load. Read at each decision: the
     * census of replicas changes.
     */
    public int limit() {
        int explicit = fixed;
        return explicit > 0 ? share.applyAsInt(explicit) : Math.min(adaptiveLimit, share.applyAsInt(adaptive.max()));
    }

    /** Whether the limit adapts to the backend (no explicit maximum configured). */
    public boolean adaptive() {
        return fixed <= 0;
    }

    /** Requests in flight now; read without a lock, so it may be a moment old. */
    public int inFlight() {
        return inFlight;
    }

    /** Requests waiting for a slot now; read without a lock. */
    public int waiting() {
        return queued;
    }

    /** Whether a request would get a slot at once (below the limit, nobody queued); read without a lock. */
    public boolean hasRoom() {
        return queued == 0 && inFlight < limit();
    }

    /** When a request on this backend last ended (epoch ms, 0 = never): "served recently" for lifecycle guards. */
    public long lastReleaseMs() {
        return lastReleaseMs;
    }

    /**
     * Takes a slot for {@code key} now, or within {@code waitMs}; {@code granted} is then called on the caller's
     * context with {@code true}, or with {@code false} when the wait ran out. A cancelled wait calls nothing.
     */
    public Wait acquire(Vertx vertx, long waitMs, String key, Consumer<Boolean> granted) {
        Waiter waiter = null;
        boolean taken = false;
        synchronized (this) {
            if (mayTake(key)) {
                take(key);
                taken = true;
            } else if (waitMs > 0) {
                waiter = new Waiter(vertx.getOrCreateContext(), key, granted);
                waiters.add(waiter);
                queued = waiters.size();
            }
        }
        if (waiter == null) {
            granted.accept(taken);
            return Wait.NONE;
        }
        Waiter queued = waiter;
        queued.timer = vertx.setTimer(waitMs, id -> {
            boolean expired;
            synchronized (this) {
                expired = leave(queued);
            }
            if (expired) {
                granted.accept(false);
            }
        });
        return () -> {
            boolean removed;
            synchronized (this) {
                removed = leave(queued);
            }
            if (removed) {
                vertx.cancelTimer(queued.timer);
            }
            return removed;
        };
    }

    /** Takes a slot for {@code key} if one is free now (never queues); true when taken. */
    public synchronized boolean tryAcquire(String key) {
        if (!mayTake(key)) {
            return false;
        }
        take(key);
        return true;
    }

    /** Gives {@code key}'s slot back: to the fairest waiter if there is one, otherwise to the pool. */
    public void release(String key) {
        lastReleaseMs = System.currentTimeMillis();
        List<Waiter> granted;
        boolean idle;
        synchronized (this) {
            inFlight--;
            held.merge(key, -1, (a, b) -> a + b == 0 ? null : a + b);
            granted = grantFree();
            idle = inFlight == 0;
        }
        handOver(granted);
        if (idle) {
            onIdle.run();
        }
    }

    /**
     * An attempt started at {@code startNanos} received its first token now: a sample for the adaptive limit.
     * {@code expectedNanos} is the part of the wait the prompt explains (its prefill): only the rest is read as
     * congestion, so that a long prompt is not taken for an overloaded backend.
     */
    public void firstToken(long startNanos, long expectedNanos) {
        long now = System.nanoTime();
        List<Waiter> granted;
        synchronized (this) {
            boolean changed = adaptive.onFirstToken(startNanos, now, expectedNanos, inFlight);
            adaptiveLimit = adaptive.limit();
            if (!changed || fixed > 0) {
                return;
            }
            granted = grantFree();
        }
        handOver(granted);
    }

    /** vLLM's own queue was read from the backend's metrics: {@code waiting} requests it has not scheduled. */
    public synchronized void vllmQueue(int waiting) {
        adaptive.onQueue(waiting, System.nanoTime());
        adaptiveLimit = adaptive.limit();
    }

    /** The backend signalled overload (a clock expired, 429, 503) for an attempt started at {@code startNanos}. */
    public synchronized void overloaded(long startNanos) {
        adaptive.onOverload(startNanos, System.nanoTime());
        adaptiveLimit = adaptive.limit();
    }

    /** Leaves the queue (under the monitor); false when the waiter was no longer in it. */
    private boolean leave(Waiter waiter) {
        boolean removed = waiters.remove(waiter);
        queued = waiters.size();
        return removed;
    }

    private boolean mayTake(String key) {
        if (inFlight >= limit()) {
            return false;
        }
        boolean othersWait = false;
        for (Waiter waiter : waiters) {
            if (waiter.key.equals(key)) {
                // FIFO among equals: never ahead of an earlier request of the same key.
                return false;
            }
            othersWait = true;
        }
        // Others wait: only a key under its fair share goes ahead of them.
        return !othersWait || held.getOrDefault(key, 0) < fairShare();
    }

    /** Takes the slots that are free now for the fairest waiters, out of the queue (under the monitor). */
    private List<Waiter> grantFree() {
        List<Waiter> granted = null;
        Waiter next;
        while ((next = fairestWaiter()) != null) {
            take(next.key);
            if (granted == null) {
                granted = new ArrayList<>(1);
            }
            granted.add(next);
        }
        return granted == null ? List.of() : granted;
    }

    /** Hands the granted slots to their waiters, each on its own context (outside the monitor). */
    private static void handOver(List<Waiter> granted) {
        for (Waiter handedTo : granted) {
            handedTo.context.runOnContext(v -> {
                handedTo.context.owner().cancelTimer(handedTo.timer);
                handedTo.granted.accept(true);
            });
        }
    }

    /** The waiter whose key holds the fewest slots (the oldest among equals), if a slot is free for it. */
    private Waiter fairestWaiter() {
        if (inFlight >= limit() || waiters.isEmpty()) {
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
        leave(best);
        return best;
    }

    private int fairShare() {
        Set<String> keys = new HashSet<>(held.keySet());
        for (Waiter waiter : waiters) {
            keys.add(waiter.key);
        }
        return Math.max(1, limit() / Math.max(1, keys.size()));
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

package org.canonic.gateway.memory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One budget for every byte the gateway holds for a body: client request bodies (while they arrive and while their
 * request lives), non-stream upstream answers while they are collected, and those answers while they wait to be
 * written to a slow client. Per-body caps alone do not bound memory (forty answers under a 16 MiB cap are 640 MiB);
 * this budget does, so that overload ends in a refusal a client can retry instead of an {@link OutOfMemoryError} that
 * takes liveness down with it.
 *
 * <p>Request bodies are also held to a share per holder (a client key, or a client address where there is no key):
 * one key's half-sent bodies could otherwise hold the whole budget and every other client's prompt would be refused.
 * Answers have no holder: backend slots already bound them per key.
 *
 * <p>Bytes are reserved as they arrive, never from a declared length (a client that announces 2 MiB and sends ten
 * bytes holds ten bytes). Each holder takes a {@link Lease}, grows it chunk by chunk and releases it on every ending.
 */
public final class BodyBudget {

    /** What a refusal was about, for the refusal counter. */
    public enum Body { REQUEST, ANSWER }

    private final long limit;
    /** The most one holder may have reserved at once. */
    private final long share;
    private final AtomicLong used = new AtomicLong();
    /** Bytes reserved per holder; entries leave at zero. Updated under the map's per-key lock ({@code compute}). */
    private final ConcurrentHashMap<String, Long> byHolder = new ConcurrentHashMap<>();
    private final LongAdder refusedRequests = new LongAdder();
    private final LongAdder refusedAnswers = new LongAdder();

    public BodyBudget(long limit) {
        this(limit, limit);
    }

    /** @param share the most one holder (a key, an address) may reserve at once, at most {@code limit} */
    public BodyBudget(long limit, long share) {
        if (limit <= 0 || share <= 0) {
            throw new IllegalArgumentException("the body budget and its share must be positive");
        }
        this.limit = limit;
        this.share = Math.min(share, limit);
    }

    /** The most one holder may reserve at once. */
    public long share() {
        return share;
    }

    public long limit() {
        return limit;
    }

    public long used() {
        return used.get();
    }

    /** Whether {@code bytes} more would fit right now: a cheap early refusal for a body whose length is announced. */
    public boolean fits(long bytes) {
        return used.get() + bytes <= limit;
    }

    /** Counts a refusal (exported as a metric). */
    public void refused(Body body) {
        (body == Body.REQUEST ? refusedRequests : refusedAnswers).increment();
    }

    public long refusals(Body body) {
        return (body == Body.REQUEST ? refusedRequests : refusedAnswers).sum();
    }

    /** A lease held to the whole budget only (answers). */
    public Lease lease() {
        return new Lease(null);
    }

    /** A lease that also counts against {@code holder}'s share (request bodies: the key, or the client address). */
    public Lease lease(String holder) {
        return new Lease(holder);
    }

    private boolean reserveShare(String holder, long bytes) {
        boolean[] granted = {false};
        byHolder.compute(holder, (h, held) -> {
            long now = held == null ? 0 : held;
            if (now + bytes > share) {
                return held;
            }
            granted[0] = true;
            return now + bytes;
        });
        return granted[0];
    }

    private void releaseShare(String holder, long bytes) {
        byHolder.computeIfPresent(holder, (h, held) -> held - bytes <= 0 ? null : held - bytes);
    }

    private boolean reserve(long bytes) {
        long current;
        do {
            current = used.get();
            if (current + bytes > limit) {
                return false;
            }
        } while (!used.compareAndSet(current, current + bytes));
        return true;
    }

    /**
     * The bytes one holder has reserved. A lease is used by one thread at a time (a request's event loop), so it
     * needs no lock of its own; only the shared total is atomic.
     */
    public final class Lease {

        private final String holder;
        private long held;
        private boolean shareFull;

        private Lease(String holder) {
            this.holder = holder;
        }

        /**
         * Reserves {@code bytes} more; false (and nothing reserved) when the budget cannot hold them, or the holder's
         * share cannot ({@link #shareFull()} tells which).
         */
        public boolean tryGrow(long bytes) {
            if (bytes <= 0) {
                return true;
            }
            if (holder != null && !reserveShare(holder, bytes)) {
                shareFull = true;
                return false;
            }
            if (!reserve(bytes)) {
                if (holder != null) {
                    releaseShare(holder, bytes);
                }
                return false;
            }
            held += bytes;
            return true;
        }

        /** Whether {@code bytes} more would fit now, in the budget and in the holder's share (an early refusal). */
        public boolean fits(long bytes) {
            if (holder != null && byHolder.getOrDefault(holder, 0L) + bytes > share) {
                shareFull = true;
                return false;
            }
            return BodyBudget.this.fits(bytes);
        }

        /** Whether the last refusal was the holder's share, not the whole budget. */
        public boolean shareFull() {
            return shareFull;
        }

        /** Moves what this lease holds to a new one (the bytes changed hands, not size); this one is left empty. */
        public Lease handOver() {
            Lease next = new Lease(holder);
            next.held = held;
            held = 0;
            return next;
        }

        /** Returns everything held to the budget (and the holder's share); later calls do nothing. */
        public void release() {
            if (held != 0) {
                used.addAndGet(-held);
                if (holder != null) {
                    releaseShare(holder, held);
                }
                held = 0;
            }
        }

        public long held() {
            return held;
        }
    }
}

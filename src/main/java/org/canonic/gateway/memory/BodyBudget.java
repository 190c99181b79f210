package org.canonic.gateway.memory;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One budget for every byte the gateway holds for a body: client request bodies (while they arrive and while their
 * request lives), non-stream upstream answers while they are collected, and those answers while they wait to be
 * written to a slow client. Per-body caps alone do not bound memory (forty answers under a 16 MiB cap are 640 MiB);
 * this budget does, so that overload ends in a refusal a client can retry instead of an {@link OutOfMemoryError} that
 * takes liveness down with it.
 *
 * <p>Bytes are reserved as they arrive, never from a declared length (a client that announces 2 MiB and sends ten
 * bytes holds ten bytes). Each holder takes a {@link Lease}, grows it chunk by chunk and releases it on every ending.
 */
public final class BodyBudget {

    /** What a refusal was about, for the refusal counter. */
    public enum Body { REQUEST, ANSWER }

    private final long limit;
    private final AtomicLong used = new AtomicLong();
    private final LongAdder refusedRequests = new LongAdder();
    private final LongAdder refusedAnswers = new LongAdder();

    public BodyBudget(long limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("the body budget must be positive");
        }
        this.limit = limit;
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

    public Lease lease() {
        return new Lease();
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

        private long held;

        private Lease() {
        }

        /** Reserves {@code bytes} more; false (and nothing reserved) when the budget cannot hold them. */
        public boolean tryGrow(long bytes) {
            if (bytes <= 0) {
                return true;
            }
            if (!reserve(bytes)) {
                return false;
            }
            held += bytes;
            return true;
        }

        /** Moves what this lease holds to a new one (the bytes changed hands, not size); this one is left empty. */
        public Lease handOver() {
            Lease next = new Lease();
            next.held = held;
            held = 0;
            return next;
        }

        /** Returns everything held to the budget; later calls do nothing. */
        public void release() {
            if (held != 0) {
                used.addAndGet(-held);
                held = 0;
            }
        }

        public long held() {
            return held;
        }
    }
}

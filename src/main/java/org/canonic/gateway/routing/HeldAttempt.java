package org.canonic.gateway.routing;

import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.health.BackendBreaker;

/**
 * What one attempt in flight holds of its backend until it ends: a slot of the backend's concurrency limit (taken
 * for the request's client key), a handle of its circuit breaker, and a registration for its drain deadline. Given
 * back exactly once, whatever ended the attempt (its answer, its client, a clock, a drain).
 */
final class HeldAttempt {

    private final LiveBackend backend;
    private final String keyId;
    private final BackendBreaker.Handle breaker;
    private final Runnable untrack;
    private final long startNanos = System.nanoTime();
    private boolean released;

    /**
     * @param withdraw how to end the attempt should the backend's drain deadline pass
     */
    HeldAttempt(LiveBackend backend, String keyId, BackendBreaker.Handle breaker, Runnable withdraw) {
        this.backend = backend;
        this.keyId = keyId;
        this.breaker = breaker;
        this.untrack = backend.track(withdraw);
    }

    LiveBackend backend() {
        return backend;
    }

    long elapsedMs() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** Gives the slot back and tells the breaker how the attempt ended (only backend faults count against it). */
    void release(AttemptOutcome outcome) {
        if (released) {
            return;
        }
        released = true;
        untrack.run();
        backend.slots().release(keyId);
        breaker.ended(outcome);
    }
}

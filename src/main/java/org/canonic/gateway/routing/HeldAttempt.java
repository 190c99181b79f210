package org.canonic.gateway.routing;

import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.health.BackendBreaker;

/**
 * What one attempt in flight holds of its backend until it ends: a slot of the backend's concurrency limit (taken
 * for the request's client key), a handle of its circuit breaker, and a registration for its drain deadline. Given
 * back exactly once, whatever ended the attempt (its answer, its client, a clock, a drain, a hedge that won).
 *
 * <p>It also tells the backend how the attempt went: its time to first token (the first data event of a stream, the
 * whole answer of a non-stream request) with the prompt tokens the backend had to prefill, or that the backend was
 * overloaded; and, until the first token, those tokens count as prefill queued there.
 */
final class HeldAttempt {

    private final LiveBackend backend;
    private final String keyId;
    private final BackendBreaker.Handle breaker;
    private final Runnable untrack;
    private final long uncachedTokens;
    private final long prefillTokens;
    private final boolean stream;
    private final long startNanos = System.nanoTime();
    private boolean sampled;
    private boolean released;

    /**
     * @param withdraw       how to end the attempt should the backend's drain deadline pass
     * @param uncachedTokens the prompt tokens the backend is expected to prefill (not in its prefix cache)
     * @param prefillTokens  those, plus the prefill queued there before it: what its first token waits for
     */
    HeldAttempt(LiveBackend backend, String keyId, BackendBreaker.Handle breaker, Runnable withdraw,
                long uncachedTokens, long prefillTokens, boolean stream) {
        this.backend = backend;
        this.keyId = keyId;
        this.breaker = breaker;
        this.untrack = backend.track(withdraw);
        this.uncachedTokens = uncachedTokens;
        this.prefillTokens = prefillTokens;
        this.stream = stream;
        backend.load().prefillStarted(uncachedTokens);
    }

    LiveBackend backend() {
        return backend;
    }

    long elapsedMs() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** The attempt's first token arrived: a sample of the backend's time to first token. */
    void firstToken() {
        if (!sampled && !released) {
            sampled = true;
            backend.load().prefillEnded(uncachedTokens);
            backend.firstToken(startNanos, prefillTokens, stream);
        }
    }

    /**
     * Gives the slot back and tells the breaker how the attempt ended (only backend faults count against it), and the
     * limit whether the backend was overloaded; a completed non-stream answer is its first token.
     */
    void release(AttemptOutcome outcome, int status) {
        if (released) {
            return;
        }
        if (overloaded(outcome, status)) {
            backend.slots().overloaded(startNanos);
        } else if (outcome == AttemptOutcome.COMPLETED) {
            firstToken();
        }
        if (!sampled) {
            backend.load().prefillEnded(uncachedTokens);
        }
        released = true;
        untrack.run();
        backend.slots().release(keyId);
        breaker.ended(outcome);
    }

    /**
     * Overload, as the limit counts it: the backend did not connect, start or go on in time, or said it is busy (429)
     * or unavailable (503). Other faults (refused connections, 500s, malformed answers) are about the backend's
     * health, which its breaker and probes judge.
     */
    private static boolean overloaded(AttemptOutcome outcome, int status) {
        return outcome == AttemptOutcome.CONNECT_TIMEOUT || outcome == AttemptOutcome.FIRST_TOKEN_TIMEOUT
                || outcome == AttemptOutcome.IDLE_TIMEOUT || outcome == AttemptOutcome.BACKEND_BUSY
                || (outcome == AttemptOutcome.BACKEND_ERROR_STATUS && status == 503);
    }
}

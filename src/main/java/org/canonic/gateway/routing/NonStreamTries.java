package org.canonic.gateway.routing;

import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.UpstreamAttempt;

/**
 * Whose fault a non-stream try's expired clock is. vLLM answers a non-stream request only once the whole generation
 * is done, so the try's first-token clock covers the generation too, and its expiry proves nothing against the
 * backend while the answer asked for may take longer: the prompt-aware first-token budget a stream would get, plus
 * {@link #SLOWEST_TOKEN_MS} per token of {@code max_tokens}. Such an expiry is the request's time limit (retried and
 * moved on as before, never counted by a breaker); past that budget even a slow generation would be over, and the
 * backend is to blame. Counted, one key's long non-stream requests opened every breaker.
 */
final class NonStreamTries {

    /** The slowest decoding a healthy, loaded vLLM is assumed to keep up: 20 tokens a second per sequence. */
    static final long SLOWEST_TOKEN_MS = 50;

    private NonStreamTries() {
    }

    /** {@code result} as it counts: a first-token expiry within the generation budget becomes the request's. */
    static UpstreamAttempt.Result judged(Attempt attempt, UpstreamAttempt.Result result, Hedging hedging) {
        if (result.outcome() != AttemptOutcome.FIRST_TOKEN_TIMEOUT) {
            return result;
        }
        long generationMs = hedging.streamFirstTokenMs(attempt.backend(), attempt.prefillTokens)
                + Math.max(0, attempt.candidate.maxTokens()) * SLOWEST_TOKEN_MS;
        if (result.elapsedMs() >= generationMs) {
            return result;
        }
        return new UpstreamAttempt.Result(AttemptOutcome.REQUEST_TIME_LIMIT, result.status(), result.body(),
                result.contentType(), result.detail() + " (the " + attempt.candidate.maxTokens()
                + " tokens asked for may take longer)", result.elapsedMs(), result.json(), result.bodyLease());
    }
}

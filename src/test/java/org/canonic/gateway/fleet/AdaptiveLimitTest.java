package org.canonic.gateway.fleet;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The adaptive limit's rules, on a simulated clock (times in milliseconds, turned into nanoseconds). */
class AdaptiveLimitTest {

    private static final long MS = 1_000_000L;

    /** Time on the simulated clock; each sample starts 1 ms after the previous one's first token. */
    private long now = 1_000 * MS;

    /** One attempt started now, first token after {@code ttftMs}, with {@code inFlight} requests on the backend. */
    private boolean sample(AdaptiveLimit limit, long ttftMs, int inFlight) {
        long start = now + MS;
        now = start + ttftMs * MS;
        return limit.onFirstToken(start, now, inFlight);
    }

    @Test
    void growsByOnePerSampleWhileLatencyIsSteadyAndTheLimitIsUsed() {
        AdaptiveLimit limit = new AdaptiveLimit(32, 4, 1024);
        for (int i = 0; i < 32; i++) {
            assertTrue(sample(limit, 100, limit.limit()), "sample " + i);
        }
        assertEquals(64, limit.limit(), "one round of first tokens at a steady TTFT doubles it");
        for (int i = 0; i < 2000; i++) {
            sample(limit, 100, limit.limit());
        }
        assertEquals(1024, limit.limit(), "clamped at the ceiling");
        assertFalse(sample(limit, 100, 1024), "no growth past max");
    }

    @Test
    void doesNotGrowWhenTheLimitIsNotUsed() {
        AdaptiveLimit limit = new AdaptiveLimit(32, 4, 1024);
        for (int i = 0; i < 100; i++) {
            assertFalse(sample(limit, 100, 10));
        }
        assertEquals(32, limit.limit(), "a limit that is never reached proves nothing");
    }

    @Test
    void shrinksMultiplicativelyWhenLatencyRisesPastTheTolerance() {
        AdaptiveLimit limit = new AdaptiveLimit(100, 4, 1024);
        for (int i = 0; i < 50; i++) {
            sample(limit, 100, 10);
        }
        assertEquals(100, limit.limit());
        // Queueing inside the backend: TTFT goes to 1 s. The recent average passes 2 x 100 ms after a couple of samples.
        int before = limit.limit();
        int samples = 0;
        while (limit.limit() == before && samples++ < 10) {
            sample(limit, 1000, 100);
        }
        assertTrue(samples <= 3, "reacts within a few samples, took " + samples);
        assertTrue(limit.limit() >= before / 2 && limit.limit() <= before * 9 / 10,
                "a decrease is between x0.5 and x0.9: " + limit.limit());
        // Attempts that started later keep seeing 1 s: the limit keeps shrinking, down to min and no further.
        for (int i = 0; i < 200; i++) {
            sample(limit, 1000, limit.limit());
        }
        assertTrue(limit.limit() <= 10, "kept shrinking while latency stayed high: " + limit.limit());
        assertTrue(limit.limit() >= 4, "never below min");
    }

    @Test
    void oneDecreasePerGenerationOfRequests() {
        AdaptiveLimit limit = new AdaptiveLimit(64, 4, 1024);
        long started = now;
        assertTrue(limit.onOverload(started, started + 500 * MS));
        assertEquals(32, limit.limit(), "an overload signal halves it");
        // Attempts that were already in flight when it was cut fail too: the same cause, no second cut.
        assertFalse(limit.onOverload(started + 10 * MS, started + 600 * MS));
        assertEquals(32, limit.limit());
        // An attempt started after the cut that still times out: cut again.
        assertTrue(limit.onOverload(started + 700 * MS, started + 900 * MS));
        assertEquals(16, limit.limit());
        for (int i = 0; i < 10; i++) {
            limit.onOverload(now + i * 1000 * MS, now + i * 1000 * MS + 1);
        }
        assertEquals(4, limit.limit(), "clamped at min");
    }

    @Test
    void jitterBelowTheNoiseFloorIsNoSignal() {
        AdaptiveLimit limit = new AdaptiveLimit(32, 4, 1024);
        for (int i = 0; i < 20; i++) {
            sample(limit, 1, 32);
        }
        int grown = limit.limit();
        // 1 ms to 20 ms is twenty times slower, but within scheduling and GC jitter: no decrease.
        for (int i = 0; i < 20; i++) {
            sample(limit, 20, 10);
        }
        assertEquals(grown, limit.limit());
    }

    @Test
    void aBaselineThatFellAfterASlowStartIsFollowedQuickly() {
        AdaptiveLimit limit = new AdaptiveLimit(32, 4, 1024);
        sample(limit, 2000, 1); // a cold start: the first sample is slow
        for (int i = 0; i < 30; i++) {
            sample(limit, 100, 1);
        }
        assertTrue(limit.baselineNanos() < 150 * MS, "baseline " + limit.baselineNanos() / MS + " ms");
        int before = limit.limit();
        for (int i = 0; i < 20; i++) {
            sample(limit, 100, limit.limit());
        }
        assertTrue(limit.limit() >= before + 10, "grows again at the new usual latency: " + limit.limit());
    }

    @Test
    void refusesInconsistentBounds() {
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveLimit(2, 4, 1024));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveLimit(32, 0, 1024));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveLimit(32, 4, 16));
    }
    @Test
    void whereVllmsQueueIsKnownItDecidesAndSlowFirstTokensDoNotShrinkTheLimit() {
        AdaptiveLimit limit = new AdaptiveLimit(32, 4, 1024, 3_000 * MS);
        for (int i = 0; i < 50; i++) {
            sample(limit, 100, 10);
        }
        // vLLM's queue is empty (read every second): other prompts' prefill makes first tokens ten times slower, which
        // is not congestion.
        for (int i = 0; i < 20; i++) {
            limit.onQueue(0, now);
            sample(limit, 1000, 10);
        }
        assertEquals(32, limit.limit(), "a busy batch with an empty queue does not shrink it");
        limit.onQueue(0, now);
        sample(limit, 1000, 32);
        assertEquals(33, limit.limit(), "used, with an empty queue: it grows");

        assertFalse(limit.onQueue(3, now), "one reading with a queue could be a moment's burst");
        assertTrue(limit.onQueue(5, now), "two in a row: vLLM queues, so the gateway should");
        assertEquals(29, limit.limit(), "shrunk by 10 %");
        assertFalse(sample(limit, 100, 29), "no growth while vLLM's queue is not empty");

        // The reading goes stale (the metrics page stopped answering): time to first token decides again.
        now += 10_000 * MS;
        int before = limit.limit();
        int samples = 0;
        while (limit.limit() == before && samples++ < 10) {
            sample(limit, 5000, 10);
        }
        assertTrue(limit.limit() < before, "slow first tokens shrink it again once the queue is unknown");
    }

    @Test
    void theQueueNeverTakesTheLimitBelowItsMinimum() {
        AdaptiveLimit limit = new AdaptiveLimit(5, 4, 1024, 3_000 * MS);
        for (int i = 0; i < 20; i++) {
            limit.onQueue(10, now);
        }
        assertEquals(4, limit.limit());
    }
}

package org.canonic.gateway.health;

import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.Backend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The breaker's state machine on a clock the test turns: the rolling window and its ratio, the delay, the half-open
 * trials, which outcomes count, and outcomes of attempts that began in an earlier state. {@code BreakerTest} proves
 * the same over HTTP with real backends.
 */
class BackendBreakerTest {

    private static final long DELAY_MS = 1_000;

    private final AtomicLong nowMs = new AtomicLong(1_000_000);
    private final List<BreakerState> announced = new ArrayList<>();
    private final BackendHealth health = new BackendHealth(BackendHealthTest.backend(Backend.ProbeKind.NONE), 3, 2,
            DELAY_MS);

    /** Window 4, ratio 0.5 (2 faults open it), 2 trials to close. */
    private BackendBreaker breaker() {
        health.listener(new BackendHealth.Listener() {
            @Override
            public void breakerChanged(BreakerState state) {
                announced.add(state);
            }
        });
        return new BackendBreaker(health, 4, 0.5, DELAY_MS, 2, nowMs::get);
    }

    private static void attempt(BackendBreaker breaker, AttemptOutcome outcome) {
        BackendBreaker.Handle handle = breaker.started();
        assertFalse(handle.rejected(), "the breaker let the attempt through");
        handle.ended(outcome);
    }

    @Test
    void opensOnlyOnceTheWindowIsFullAndHoldsEnoughBackendFaults() {
        BackendBreaker breaker = breaker();
        attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        attempt(breaker, AttemptOutcome.CONNECT_FAILED);
        attempt(breaker, AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.CLOSED, breaker.state(), "two faults in three: the window of four is not full");
        attempt(breaker, AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.OPEN, breaker.state(), "two faults in a full window of four reach the 0.5 ratio");
        assertEquals(List.of(BreakerState.OPEN), announced);
        assertEquals("CONNECT_FAILED", health.lastFaultClass());
    }

    @Test
    void theWindowRollsSoOldFaultsAgeOut() {
        BackendBreaker breaker = breaker();
        attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        for (int i = 0; i < 4; i++) {
            attempt(breaker, AttemptOutcome.COMPLETED);
        }
        attempt(breaker, AttemptOutcome.IDLE_TIMEOUT);
        attempt(breaker, AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.CLOSED, breaker.state(), "the first fault left the window; one in four stays");
        attempt(breaker, AttemptOutcome.STREAM_ERROR_EVENT);
        assertEquals(BreakerState.OPEN, breaker.state());
    }

    @Test
    void requestFaultsAndCancellationsNeverOpenIt() {
        BackendBreaker breaker = breaker();
        for (int i = 0; i < 20; i++) {
            attempt(breaker, i % 2 == 0 ? AttemptOutcome.REJECTED_BY_BACKEND : AttemptOutcome.CLIENT_CANCELLED);
        }
        attempt(breaker, AttemptOutcome.WITHDRAWN);
        assertEquals(BreakerState.CLOSED, breaker.state());
        assertTrue(announced.isEmpty());
    }

    @Test
    void anOpenBreakerRefusesUntilTheDelayThenLetsTheTrialsThroughAndClosesOnTheirSuccess() {
        BackendBreaker breaker = opened();
        assertTrue(breaker.started().rejected(), "open: refused");
        nowMs.addAndGet(DELAY_MS - 1);
        assertTrue(breaker.started().rejected(), "still within the delay");
        nowMs.addAndGet(1);

        BackendBreaker.Handle first = breaker.started();
        BackendBreaker.Handle second = breaker.started();
        assertFalse(first.rejected());
        assertFalse(second.rejected());
        assertEquals(BreakerState.HALF_OPEN, breaker.state());
        assertTrue(breaker.started().rejected(), "two trials at most while half-open");

        first.ended(AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.HALF_OPEN, breaker.state(), "one success of the two needed");
        second.ended(AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.CLOSED, breaker.state());
        assertEquals(List.of(BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED), announced);

        attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        attempt(breaker, AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.CLOSED, breaker.state(), "closing emptied the window: it fills again first");
    }

    @Test
    void aFaultAmongTheTrialsOpensItAgainForAnotherDelay() {
        BackendBreaker breaker = opened();
        nowMs.addAndGet(DELAY_MS);
        BackendBreaker.Handle trial = breaker.started();
        trial.ended(AttemptOutcome.FIRST_TOKEN_TIMEOUT);
        assertEquals(BreakerState.OPEN, breaker.state());
        nowMs.addAndGet(DELAY_MS - 1);
        assertTrue(breaker.started().rejected(), "the delay starts again from the failed trial");
        nowMs.addAndGet(1);
        assertFalse(breaker.started().rejected());
    }

    @Test
    void anAttemptThatBeganInAnEarlierStateChangesNothing() {
        BackendBreaker breaker = breaker();
        BackendBreaker.Handle longStream = breaker.started();
        for (int i = 0; i < 4; i++) {
            attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        }
        assertEquals(BreakerState.OPEN, breaker.state());
        nowMs.addAndGet(DELAY_MS);
        BackendBreaker.Handle trial = breaker.started();
        longStream.ended(AttemptOutcome.BACKEND_ERROR_STATUS);
        assertEquals(BreakerState.HALF_OPEN, breaker.state(), "a stream begun while closed does not fail the trial");
        trial.ended(AttemptOutcome.COMPLETED);
        trial.ended(AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.HALF_OPEN, breaker.state(), "an attempt reports once: one success of two");
    }

    @Test
    void resetClosesItWithAnEmptyWindow() {
        BackendBreaker breaker = opened();
        breaker.reset();
        assertEquals(BreakerState.CLOSED, breaker.state());
        assertFalse(breaker.started().rejected());
        attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        attempt(breaker, AttemptOutcome.COMPLETED);
        assertEquals(BreakerState.CLOSED, breaker.state());
    }

    @Test
    void healthReadsTheBreakersLiveState() {
        BackendBreaker breaker = opened();
        assertEquals(BreakerState.OPEN, health.breakerState());
        assertFalse(health.routable(), "an open breaker keeps the backend out");
        breaker.reset();
        assertEquals(BreakerState.CLOSED, health.breakerState());
        assertTrue(health.routable());
    }

    @Test
    void settingsOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new BackendBreaker(health, 0, 0.5, 1, 1, nowMs::get));
        assertThrows(IllegalArgumentException.class, () -> new BackendBreaker(health, 4, 1.5, 1, 1, nowMs::get));
        assertThrows(IllegalArgumentException.class, () -> new BackendBreaker(health, 4, 0, 1, 1, nowMs::get));
        assertThrows(IllegalArgumentException.class, () -> new BackendBreaker(health, 4, 0.5, 1, 0, nowMs::get));
    }

    private BackendBreaker opened() {
        BackendBreaker breaker = breaker();
        for (int i = 0; i < 4; i++) {
            attempt(breaker, AttemptOutcome.BACKEND_ERROR_STATUS);
        }
        assertEquals(BreakerState.OPEN, breaker.state());
        return breaker;
    }
}

package org.canonic.gateway.health;

import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.config.BootChecks;
import org.canonic.gateway.config.OperationsConfig;

import java.util.function.LongSupplier;

/**
 * The circuit breaker of one backend, fed by real traffic, with MicroProfile Fault Tolerance's semantics.
 *
 * <p>CLOSED: the outcomes of the last {@code requestVolumeThreshold} attempts form a rolling window; once it is full
 * and at least {@code ceil(failureRatio x window)} of them are backend faults, the breaker opens. OPEN: every attempt
 * is refused until {@code delay} has passed; the next attempt half-opens it. HALF_OPEN: {@code successThreshold}
 * trial attempts are let through, one more is refused; a backend fault among them opens the breaker again, that many
 * completed trials close it with an empty window.
 *
 * <p>An attempt is the whole exchange, however long its stream runs: its outcome is reported when it ends, so a fault
 * after the first token counts. Only backend faults count against the backend: request faults, client cancellations
 * and withdrawals fill the window as non-faults (as they did under SmallRye's {@code failOn}). An outcome counts only
 * in the state its attempt started in: an attempt begun while CLOSED that ends after the breaker opened changes
 * nothing.
 *
 * <p>This used to be a SmallRye Fault Tolerance guard around a {@code CompletionStage} per attempt. Measured on the
 * non-stream hot path, that guard (a future, context propagation and a task re-dispatched to the event loop per
 * attempt) took ~5 % of the gateway's CPU; this one is a few field updates under an uncontended lock.
 */
public final class BackendBreaker {

    /** One attempt as the breaker sees it. */
    public interface Handle {
        /** Whether the breaker refused the attempt (open, or its half-open trials already taken). */
        boolean rejected();

        /** Reports how the attempt ended; backend faults count against the backend, nothing else does. */
        void ended(AttemptOutcome outcome);
    }

    private static final Handle REJECTED = new Handle() {
        @Override
        public boolean rejected() {
            return true;
        }

        @Override
        public void ended(AttemptOutcome outcome) {
        }
    };

    private final BackendHealth health;
    private final long delayMs;
    private final int successThreshold;
    private final int faultsToOpen;
    private final LongSupplier clockMs;

    /** Written under the lock, read without it (routing reads it for every candidate of every request). */
    private volatile BreakerState state = BreakerState.CLOSED;
    // The rest is guarded by this.
    /** Bumped on every state change: an attempt's outcome counts only in the generation it started in. */
    private long generation;
    /** The rolling window of CLOSED: true = backend fault. */
    private final boolean[] window;
    private int windowNext;
    private int windowFilled;
    private int windowFaults;
    private long openedAtMs;
    private int trialsStarted;
    private int trialsSucceeded;

    public BackendBreaker(BackendHealth health, OperationsConfig.Breaker config) {
        this(health, config.requestVolumeThreshold(), config.failureRatio(), config.delay().toMillis(),
                config.successThreshold(), System::currentTimeMillis);
    }

    BackendBreaker(BackendHealth health, int windowSize, double failureRatio, long delayMs, int successThreshold,
                   LongSupplier clockMs) {
        if (!BootChecks.breakerSettingsValid(windowSize, failureRatio, delayMs, successThreshold)) {
            // BootChecks refuses such settings at start-up with the setting names; this guards other callers.
            throw new IllegalArgumentException("breaker settings out of range: window " + windowSize
                    + ", failure ratio " + failureRatio + ", delay " + delayMs + " ms, success threshold "
                    + successThreshold);
        }
        this.health = health;
        this.window = new boolean[windowSize];
        this.faultsToOpen = (int) Math.ceil(failureRatio * windowSize);
        this.delayMs = delayMs;
        this.successThreshold = successThreshold;
        this.clockMs = clockMs;
        health.attachBreaker(this::state);
    }

    public BreakerState state() {
        return state;
    }

    /** Opens an attempt under the breaker; check {@link Handle#rejected()} before sending anything. */
    public Handle started() {
        BreakerState changedTo = null;
        Handle handle;
        synchronized (this) {
            if (state == BreakerState.OPEN) {
                if (clockMs.getAsLong() - openedAtMs < delayMs) {
                    return REJECTED;
                }
                changedTo = moveTo(BreakerState.HALF_OPEN);
            }
            if (state == BreakerState.HALF_OPEN) {
                if (trialsStarted >= successThreshold) {
                    handle = REJECTED;
                } else {
                    trialsStarted++;
                    handle = new Attempt(generation);
                }
            } else {
                handle = new Attempt(generation);
            }
        }
        announce(changedTo);
        return handle;
    }

    /** Closes the breaker with an empty window, whatever its state (an operator's or a test's reset). */
    public void reset() {
        BreakerState changedTo;
        synchronized (this) {
            changedTo = moveTo(BreakerState.CLOSED);
            if (changedTo == null) {
                clearWindow();
                generation++;
            }
        }
        announce(changedTo);
    }

    private void ended(Attempt attempt, AttemptOutcome outcome) {
        boolean fault = outcome.isBackendFault();
        BreakerState changedTo = null;
        synchronized (this) {
            if (attempt.ended) {
                return;
            }
            attempt.ended = true;
            if (attempt.generation == generation) {
                if (state == BreakerState.CLOSED) {
                    changedTo = record(fault);
                } else if (state == BreakerState.HALF_OPEN) {
                    if (fault) {
                        changedTo = moveTo(BreakerState.OPEN);
                    } else if (++trialsSucceeded >= successThreshold) {
                        changedTo = moveTo(BreakerState.CLOSED);
                    }
                }
            }
        }
        if (fault) {
            health.onFault(outcome.name());
        } else if (outcome == AttemptOutcome.COMPLETED) {
            health.onTrafficSuccess();
        }
        announce(changedTo);
    }

    /** One outcome into the CLOSED window; opens the breaker when the full window holds enough faults. */
    private BreakerState record(boolean fault) {
        if (windowFilled == window.length && window[windowNext]) {
            windowFaults--;
        }
        window[windowNext] = fault;
        windowNext = (windowNext + 1) % window.length;
        windowFilled = Math.min(windowFilled + 1, window.length);
        if (fault) {
            windowFaults++;
        }
        return windowFilled == window.length && windowFaults >= faultsToOpen ? moveTo(BreakerState.OPEN) : null;
    }

    /** Changes state (under the lock); returns the new state to announce outside it, or null if unchanged. */
    private BreakerState moveTo(BreakerState next) {
        if (state == next) {
            return null;
        }
        state = next;
        generation++;
        trialsStarted = 0;
        trialsSucceeded = 0;
        if (next == BreakerState.OPEN) {
            openedAtMs = clockMs.getAsLong();
        } else if (next == BreakerState.CLOSED) {
            clearWindow();
        }
        return next;
    }

    private void clearWindow() {
        windowNext = 0;
        windowFilled = 0;
        windowFaults = 0;
    }

    private void announce(BreakerState changedTo) {
        if (changedTo != null) {
            health.onBreakerState(changedTo);
        }
    }

    private final class Attempt implements Handle {
        private final long generation;
        /** Guarded by the breaker: an attempt reports once. */
        private boolean ended;

        Attempt(long generation) {
            this.generation = generation;
        }

        @Override
        public boolean rejected() {
            return false;
        }

        @Override
        public void ended(AttemptOutcome outcome) {
            BackendBreaker.this.ended(this, outcome);
        }
    }
}

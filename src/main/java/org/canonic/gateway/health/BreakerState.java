package org.canonic.gateway.health;

/** The three states of a backend's circuit breaker, named as MicroProfile Fault Tolerance names them. */
public enum BreakerState {
    /** Attempts go through; their outcomes fill the rolling window. */
    CLOSED,
    /** Too many backend faults in the window: no attempt goes through until the delay has passed. */
    OPEN,
    /** The delay has passed: a limited number of trial attempts decide between CLOSED and OPEN again. */
    HALF_OPEN
}

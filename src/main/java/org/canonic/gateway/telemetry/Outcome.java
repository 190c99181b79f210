package org.canonic.gateway.telemetry;

/** How a request ended, as the ledger and the metrics name it. A small, fixed set: safe as a metric label. */
public enum Outcome {
    /** Answered in full. */
    COMPLETED("completed"),
    /** Refused by the gateway's own policy (4xx; nothing was forwarded). */
    REFUSED("refused"),
    /** Refused by a backend as invalid (4xx relayed, context overflow included). */
    REJECTED("rejected"),
    /** Every candidate failed before the commit point (502/503/504). */
    FAILED("failed"),
    /** No candidate could be tried: none routable (503) or all at capacity (429). */
    UNAVAILABLE("unavailable"),
    /** Failed after the commit point: the client got part of an answer and an error event. */
    TRUNCATED("truncated"),
    /** The client went away first. */
    CANCELLED("cancelled"),
    /** Still in flight when the process halted (a second SIGTERM): recorded as the process stopped. */
    TERMINATED("terminated");

    private final String label;

    Outcome(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}

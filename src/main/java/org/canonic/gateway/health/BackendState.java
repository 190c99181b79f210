package org.canonic.gateway.health;

/** What the gateway believes about a backend, from its probes. */
public enum BackendState {
    /** Not probed yet: not routable until a probe proves it (a backend is never trusted on configuration alone). */
    PENDING(false),
    /** Probes pass. */
    UP(true),
    /** Some recent probes failed, not yet enough to take it out: still routed, after healthy backends. */
    DEGRADED(true),
    /** Alive but not warm (a RunPod endpoint with workers still initializing): used only when nothing warmer is. */
    COLD(true),
    /** Out of rotation until enough consecutive good probes bring it back. */
    DOWN(false);

    private final boolean routable;

    BackendState(boolean routable) {
        this.routable = routable;
    }

    public boolean routable() {
        return routable;
    }

    /** Preference when choosing candidates: lower first; route order breaks ties. */
    public int preference() {
        return switch (this) {
            case UP -> 0;
            case DEGRADED -> 1;
            case COLD -> 2;
            default -> 3;
        };
    }
}

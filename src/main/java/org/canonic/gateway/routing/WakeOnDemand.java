package org.canonic.gateway.routing;

import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;

/**
 * Capacity that can be woken for a route nothing serves right now (scale to zero): asked by the {@link Dispatcher}
 * only when a request finds no routable backend, so a route that serves never pays for it. Declared here and
 * implemented by the capacity stage, so routing does not depend on compute.
 */
public interface WakeOnDemand {

    /** No capacity policy anywhere: every route answers as before. */
    WakeOnDemand NONE = route -> null;

    /**
     * Called on the request's event loop; must not block.
     *
     * @return null when no policy covers {@code route} (the ordinary no-backend answer at once); otherwise a stage
     * completing (on any thread) with the seconds until capacity is expected ready (a launch is under way or was
     * just asked for: the client hears {@code capacity_starting} and {@code Retry-After}), or empty when none will
     * come (the policy may not launch now: the ordinary answer)
     */
    CompletionStage<OptionalLong> wake(String route);
}

package org.canonic.gateway.routing;

import org.canonic.gateway.backend.Backend;

/**
 * What routing needs to know about a backend's health. Routing only reads it; the health stage implements it,
 * so the dependency points one way.
 */
public interface BackendAvailability {

    /** Whether the backend may be sent a request now. */
    boolean routable(Backend backend);

    /** Lower is preferred (healthy before degraded before cold); route order breaks ties. */
    int preference(Backend backend);

    /** A short, secret-free account of the backend's state, for "nothing available" answers. */
    String describe(Backend backend);
}

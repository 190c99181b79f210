package org.canonic.gateway.fleet;

import java.util.List;

/**
 * A route as one snapshot of the fleet sees it: the model names clients may send for it, and the live backends
 * that serve it in order of preference.
 *
 * @param name       configuration name ({@code chat}, {@code kilocode}); bounded, so safe as a metric label
 * @param modelNames client-facing names: configured aliases, then each backend's own model id
 * @param backends   the route's backends in order, without the global fallback (may be empty: the route waits)
 */
public record Route(String name, List<String> modelNames, List<LiveBackend> backends) {
}

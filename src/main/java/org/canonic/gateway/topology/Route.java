package org.canonic.gateway.topology;

import org.canonic.gateway.backend.Backend;

import java.util.List;

/**
 * A route: the model names clients may send for it, and the backends that serve it in order of preference.
 *
 * @param name       configuration name ({@code chat}, {@code kilocode}); bounded, so safe as a metric label
 * @param modelNames client-facing names: configured aliases, then each backend's own model id
 * @param backends   the route's backends in order, without the global fallback
 */
public record Route(String name, List<String> modelNames, List<Backend> backends) {
}

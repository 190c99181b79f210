package org.canonic.gateway.topology;

import org.canonic.gateway.backend.Backend;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Routes and backends as resolved at start-up: immutable, so the request path reads it without locks.
 */
public final class Topology {

    private final Map<String, Route> routesByModel;
    private final List<Route> routes;
    private final Map<String, Backend> backends;
    private final Backend fallback;

    Topology(List<Route> routes, Map<String, Backend> backends, Backend fallback) {
        this.routes = List.copyOf(routes);
        this.backends = Collections.unmodifiableMap(new LinkedHashMap<>(backends));
        this.fallback = fallback;
        Map<String, Route> byModel = new LinkedHashMap<>();
        for (Route route : routes) {
            for (String model : route.modelNames()) {
                byModel.putIfAbsent(model, route);
            }
        }
        this.routesByModel = Collections.unmodifiableMap(byModel);
    }

    /** The route a client-facing model name belongs to. Names are matched exactly, as vLLM does. */
    public Optional<Route> routeFor(String model) {
        return Optional.ofNullable(routesByModel.get(model));
    }

    /** Every client-facing model name, in configuration order. */
    public List<String> modelNames() {
        return List.copyOf(routesByModel.keySet());
    }

    public List<Route> routes() {
        return routes;
    }

    public Map<String, Backend> backends() {
        return backends;
    }

    public Optional<Backend> fallback() {
        return Optional.ofNullable(fallback);
    }

    /** The backends to try for a route, in order: the route's own, then the global fallback if not already in. */
    public List<Backend> candidates(Route route) {
        if (fallback == null || route.backends().contains(fallback)) {
            return route.backends();
        }
        List<Backend> candidates = new ArrayList<>(route.backends().size() + 1);
        candidates.addAll(route.backends());
        candidates.add(fallback);
        return candidates;
    }
}

package org.canonic.gateway.fleet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The fleet at one moment: routes, their live backends and the fallback. Immutable: a request takes the snapshot
 * current when it arrives and reads only that one, so a registry change never alters a request half-way.
 */
public final class FleetSnapshot {

    private final long version;
    private final List<Route> routes;
    private final Map<String, Route> routesByModel;
    private final Map<String, LiveBackend> backends;
    private final LiveBackend fallback;

    FleetSnapshot(long version, List<Route> routes, Map<String, LiveBackend> backends, LiveBackend fallback) {
        this.version = version;
        this.routes = List.copyOf(routes);
        this.backends = Collections.unmodifiableMap(new LinkedHashMap<>(backends));
        this.fallback = fallback;
        Map<String, Route> byModel = new LinkedHashMap<>();
        for (Route route : this.routes) {
            for (String model : route.modelNames()) {
                byModel.putIfAbsent(model, route);
            }
        }
        this.routesByModel = Collections.unmodifiableMap(byModel);
    }

    /**
     * Builds routes from their aliases and member backends: each route also answers to its backends' own model ids,
     * unless another route serves the same id or claims it as an alias (then clients must use an alias).
     */
    static List<Route> routes(Map<String, List<String>> aliases, Map<String, List<LiveBackend>> members) {
        Set<String> allAliases = new LinkedHashSet<>();
        aliases.values().forEach(allAliases::addAll);
        Map<String, Set<String>> idRoutes = new LinkedHashMap<>();
        members.forEach((route, backends) -> backends.forEach(backend ->
                idRoutes.computeIfAbsent(backend.spec().model(), id -> new LinkedHashSet<>()).add(route)));
        List<Route> routes = new ArrayList<>();
        aliases.forEach((route, routeAliases) -> {
            Set<String> names = new LinkedHashSet<>(routeAliases);
            List<LiveBackend> backends = members.getOrDefault(route, List.of());
            for (LiveBackend backend : backends) {
                String id = backend.spec().model();
                if (idRoutes.get(id).size() == 1 && !allAliases.contains(id)) {
                    names.add(id);
                }
            }
            routes.add(new Route(route, List.copyOf(names), List.copyOf(backends)));
        });
        return routes;
    }

    /** Increases with every change of the fleet. */
    public long version() {
        return version;
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

    /** The backends that serve (draining ones included until they leave), by name. */
    public Map<String, LiveBackend> backends() {
        return backends;
    }

    public Optional<LiveBackend> fallback() {
        return Optional.ofNullable(fallback);
    }

    /** The backends to try for a route, in order: the route's own, then the global fallback if not already in. */
    public List<LiveBackend> candidates(Route route) {
        if (fallback == null || route.backends().contains(fallback)) {
            return route.backends();
        }
        List<LiveBackend> candidates = new ArrayList<>(route.backends().size() + 1);
        candidates.addAll(route.backends());
        candidates.add(fallback);
        return candidates;
    }

    /** Whether some candidate of the route may take a request now. */
    public boolean routable(Route route) {
        return candidates(route).stream().anyMatch(LiveBackend::routable);
    }

    /**
     * Each route's status, in configuration order: {@code UP} (some candidate routable), {@code WAITING} (no backend
     * at all: none configured or registered yet) or {@code DOWN} (it has backends, none routable now).
     */
    public Map<String, String> routeStates() {
        Map<String, String> states = new LinkedHashMap<>();
        for (Route route : routes) {
            states.put(route.name(), candidates(route).isEmpty() ? "WAITING" : routable(route) ? "UP" : "DOWN");
        }
        return states;
    }
}

package org.canonic.gateway.fleet;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each route's backends in order, by name: the part of the fleet a registration changes and a failed save puts
 * back. Not thread-safe; the {@link Fleet}'s monitor guards it, and requests read the published snapshot instead.
 */
final class RouteMembers {

    private final Map<String, List<String>> routes = new LinkedHashMap<>();

    RouteMembers(Map<String, List<String>> initial) {
        restore(initial);
    }

    /** Adds a problem for each route a registration names that does not exist. */
    void check(BackendRegistration registration, List<String> problems) {
        for (BackendRegistration.Membership membership : registration.routes()) {
            if (!routes.containsKey(membership.route())) {
                problems.add("routes names '" + membership.route() + "', which is not a route; routes: "
                        + routes.keySet());
            }
        }
    }

    /** Inserts a backend into each route it joins, at its position (clamped to the route's length) or last. */
    void join(String name, List<BackendRegistration.Membership> memberships) {
        for (BackendRegistration.Membership membership : memberships) {
            List<String> names = routes.get(membership.route());
            int position = membership.position() == null ? names.size() : Math.min(membership.position(), names.size());
            names.add(position, name);
        }
    }

    /** Takes a backend out of every route. */
    void leave(String name) {
        routes.values().forEach(names -> names.remove(name));
    }

    /** A copy to put back with {@link #restore} should a change have to be undone. */
    Map<String, List<String>> copy() {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        routes.forEach((route, names) -> copy.put(route, new ArrayList<>(names)));
        return copy;
    }

    void restore(Map<String, List<String>> before) {
        routes.clear();
        before.forEach((route, names) -> routes.put(route, new ArrayList<>(names)));
    }

    /** The routes as they are now, to read (what is saved and published); changes go through the methods above. */
    Map<String, List<String>> view() {
        return Collections.unmodifiableMap(routes);
    }
}

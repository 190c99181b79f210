package org.canonic.gateway.health;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.canonic.gateway.topology.Route;
import org.canonic.gateway.topology.Topology;

import java.util.LinkedHashMap;
import java.util.Map;

/** Whether each route can take traffic: at least one of its candidates (the fallback included) is routable. */
@ApplicationScoped
public class RouteHealth {

    @Inject
    Topology topology;

    @Inject
    HealthRegistry health;

    public boolean routable(Route route) {
        return topology.candidates(route).stream().anyMatch(health::routable);
    }

    /** Route name to "UP" or "DOWN", in configuration order. */
    public Map<String, String> byRoute() {
        Map<String, String> routes = new LinkedHashMap<>();
        topology.routes().forEach(route -> routes.put(route.name(), routable(route) ? "UP" : "DOWN"));
        return routes;
    }

    public boolean allRoutable() {
        return topology.routes().stream().allMatch(this::routable);
    }
}

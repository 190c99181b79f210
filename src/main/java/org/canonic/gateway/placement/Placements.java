package org.canonic.gateway.placement;

import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.telemetry.GatewayMetrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every route's {@link RoutePlacement}, made once at start-up: routes come from configuration only (registered
 * backends join existing routes), and what a route remembers (its prefix index, sessions, hedge budget) must outlive
 * every change of the fleet.
 */
public final class Placements {

    private final Map<String, RoutePlacement> routes = new LinkedHashMap<>();
    private final RoutingConfig.Routing routing;

    public Placements(GatewayConfig config, GatewayMetrics metrics) {
        this.routing = config.routing();
        config.routes().forEach((name, route) -> {
            RoutePlacement placement = new RoutePlacement(name, route.policy(), routing.affinity(),
                    route.hedging().enabled(), route.hedging().maxShare().orElse(routing.hedging().maxShare()));
            routes.put(name, placement);
            metrics.prefixIndex(name, placement.index()::bytes, placement.index()::entries);
        });
    }

    /** The placement of route {@code name}; a route unknown at start-up is placed in configuration order. */
    public RoutePlacement of(String name) {
        RoutePlacement placement = routes.get(name);
        return placement != null ? placement : routes.computeIfAbsent(name, unknown -> new RoutePlacement(unknown,
                Optional.of(RoutingConfig.Policy.ORDERED), routing.affinity(), false, 0));
    }
}

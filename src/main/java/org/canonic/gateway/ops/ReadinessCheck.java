package org.canonic.gateway.ops;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.canonic.gateway.api.GracefulShutdown;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.FleetSnapshot;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.health.HealthSnapshot;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.time.Instant;
import java.util.Map;

/**
 * Readiness ({@code /q/health/ready}): this replica can serve traffic, meaning at least one route has a routable
 * backend. One route without a backend must not take a replica that serves the others out of its load balancer;
 * per-route status is in the check data (and in {@code /health/{route}} for monitors). A route that waits for its first
 * backend says {@code WAITING}. Reads in-memory state only: never probes, never blocks.
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements AsyncHealthCheck {

    @Inject
    Fleet fleet;

    @Inject
    GracefulShutdown shutdown;

    @Override
    public Uni<HealthCheckResponse> call() {
        FleetSnapshot snapshot = fleet.snapshot();
        Map<String, String> routes = snapshot.routeStates();
        // Stopping: out of every load balancer at once, whatever the routes say.
        HealthCheckResponseBuilder response = HealthCheckResponse.named("routes")
                .status(routes.containsValue("UP") && !shutdown.closing());
        if (shutdown.closing()) {
            response.withData("shutdown", "draining");
        }
        routes.forEach((route, state) -> response.withData("route." + route, state));
        for (LiveBackend backend : snapshot.backends().values()) {
            HealthSnapshot health = backend.snapshot();
            String prefix = "backend." + backend.name() + ".";
            response.withData(prefix + "state", health.state().name())
                    .withData(prefix + "reason", health.reason())
                    .withData(prefix + "breaker", backend.breakerState().name())
                    .withData(prefix + "drain", backend.drain().name())
                    .withData(prefix + "lastProbe", health.lastProbeEpochMs() == 0 ? "never"
                            : Instant.ofEpochMilli(health.lastProbeEpochMs()).toString())
                    .withData(prefix + "maxModelLen", health.maxModelLen());
        }
        return Uni.createFrom().item(response.build());
    }
}

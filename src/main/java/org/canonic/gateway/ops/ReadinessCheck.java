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
 * Readiness ({@code /q/health/ready}): this process can answer, so it is DOWN only while it drains for a stop. It does
 * not follow the GPU backends: with every backend down, a replica taken out of its Service would leave clients the
 * tunnel's HTML 502 instead of the gateway's JSON 503 with {@code Retry-After}, and uptime monitors could not tell an
 * outage of the GPUs from one of the gateway. What the routes can do is in the check's data (a route that waits for its
 * first backend says {@code WAITING}) and in {@code /health} and {@code /health/{route}}. Reads in-memory state only:
 * never probes, never blocks.
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
        // Stopping: out of every load balancer at once. Otherwise ready, whatever the routes say.
        HealthCheckResponseBuilder response = HealthCheckResponse.named("routes").status(!shutdown.closing());
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

package org.canonic.gateway.health;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.time.Instant;

/**
 * Readiness ({@code /q/health/ready}): UP when every route has at least one routable backend. Each backend's state,
 * reason, last probe time and learned window are in the check data. Reads in-memory state only: never probes, never
 * blocks. Liveness is SmallRye's default: the process answers.
 */
@Readiness
@ApplicationScoped
public class ReadinessCheck implements AsyncHealthCheck {

    @Inject
    RouteHealth routes;

    @Inject
    HealthRegistry health;

    @Override
    public Uni<HealthCheckResponse> call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("routes").status(routes.allRoutable());
        routes.byRoute().forEach((route, state) -> response.withData("route." + route, state));
        for (BackendHealth backend : health.all()) {
            HealthSnapshot snapshot = backend.snapshot();
            String prefix = "backend." + backend.backend().name() + ".";
            response.withData(prefix + "state", snapshot.state().name())
                    .withData(prefix + "reason", snapshot.reason())
                    .withData(prefix + "breaker", backend.breakerState().name())
                    .withData(prefix + "lastProbe", snapshot.lastProbeEpochMs() == 0 ? "never"
                            : Instant.ofEpochMilli(snapshot.lastProbeEpochMs()).toString())
                    .withData(prefix + "maxModelLen", snapshot.maxModelLen());
        }
        return Uni.createFrom().item(response.build());
    }
}

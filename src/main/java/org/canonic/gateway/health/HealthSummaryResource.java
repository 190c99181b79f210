package org.canonic.gateway.health;

import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;

/**
 * {@code GET /health}: the short public summary uptime monitors poll through the tunnel. Status per route only:
 * no backend names, no URLs, no secrets. 200 when every route can serve, 503 otherwise, so a plain HTTP check works.
 */
@Path("/health")
public class HealthSummaryResource {

    @Inject
    RouteHealth routes;

    @RegisterForReflection
    public record Summary(String status, Map<String, String> routes) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response summary() {
        Map<String, String> byRoute = routes.byRoute();
        boolean all = byRoute.values().stream().allMatch("UP"::equals);
        boolean none = byRoute.values().stream().noneMatch("UP"::equals);
        String status = all ? "UP" : none ? "DOWN" : "DEGRADED";
        return Response.status(all ? 200 : 503).entity(new Summary(status, byRoute)).build();
    }
}

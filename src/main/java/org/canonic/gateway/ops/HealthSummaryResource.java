package org.canonic.gateway.ops;

import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.relay.OpenAiError;

import java.util.Map;

/**
 * The short public summary uptime monitors poll through the tunnel: status per route only, no backend names, no
 * URLs, no secrets. {@code GET /health} answers 200 while some route serves ({@code UP} when all do,
 * {@code DEGRADED} otherwise) and 503 when none does; {@code GET /health/{route}} gives a monitor the plain 200/503
 * of one route.
 */
@Path("/health")
public class HealthSummaryResource {

    @Inject
    Fleet fleet;

    @Inject
    MaintenanceLock lock;

    /** {@code maintenance}: an operator or automation holds the maintenance lock (who and why is admin-only). */
    @RegisterForReflection
    public record Summary(String status, Map<String, String> routes, boolean maintenance) {
    }

    @RegisterForReflection
    public record RouteStatus(String route, String status) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response summary() {
        Map<String, String> byRoute = fleet.snapshot().routeStates();
        boolean all = !byRoute.isEmpty() && byRoute.values().stream().allMatch("UP"::equals);
        boolean some = byRoute.containsValue("UP");
        String status = all ? "UP" : some ? "DEGRADED" : "DOWN";
        return Response.status(some ? 200 : 503).entity(new Summary(status, byRoute, lock.status().held())).build();
    }

    @GET
    @Path("/{route}")
    @Produces(MediaType.APPLICATION_JSON)
    public Response route(@PathParam("route") String route) {
        String status = fleet.snapshot().routeStates().get(route);
        if (status == null) {
            OpenAiError error = OpenAiError.invalidRequest(404, "No route is named '"
                    + OpenAiError.echo(route, 64) + "'.", null, "route_not_found");
            return Response.status(404).type(MediaType.APPLICATION_JSON).entity(error.toJson()).build();
        }
        return Response.status("UP".equals(status) ? 200 : 503).entity(new RouteStatus(route, status)).build();
    }
}

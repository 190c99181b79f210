package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.FleetException;
import org.canonic.gateway.fleet.FleetSnapshot;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.relay.OpenAiError;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The backend registry's admin API, under the bearer token in {@code GATEWAY_ADMIN_TOKEN} (without a configured
 * token none of it exists):
 * <ul>
 *   <li>{@code GET /admin/backends}, {@code GET /admin/backends/{name}}: the view of every backend (or one);</li>
 *   <li>{@code POST /admin/backends}: registers a backend (201); it starts PENDING and serves once its probes
 *       pass;</li>
 *   <li>{@code PATCH /admin/backends/{name}}: changes a registered backend's routes, order, limits, clocks;</li>
 *   <li>{@code POST /admin/backends/{name}/drain} ({@code {"deadline_seconds":n}} optional) and {@code /undrain};</li>
 *   <li>{@code DELETE /admin/backends/{name}}: deregisters (drains first; 202 while draining).</li>
 * </ul>
 * Every change is checked as strictly as start-up configuration and answered with the resulting backend view; a
 * refused change changes nothing.
 */
@Path("/admin/backends")
@Produces(MediaType.APPLICATION_JSON)
public class AdminBackendsResource {

    /** The longest drain deadline an admin call may ask for. */
    private static final long MAX_DEADLINE_SECONDS = 24 * 3600;

    @Inject
    Fleet fleet;

    @Inject
    GatewayConfig config;

    @Inject
    RequestJson json;

    @GET
    public Response list(@HeaderParam("Authorization") String authorization) {
        return authorized(authorization, () -> {
            FleetSnapshot snapshot = fleet.snapshot();
            List<BackendView> views = new ArrayList<>();
            snapshot.backends().values().forEach(backend -> views.add(view(backend, snapshot)));
            fleet.leaving().forEach(backend -> views.add(view(backend, snapshot)));
            return Response.ok(views).build();
        });
    }

    @GET
    @Path("/{name}")
    public Response one(@HeaderParam("Authorization") String authorization, @PathParam("name") String name) {
        return authorized(authorization, () -> fleet.find(name)
                .map(backend -> Response.ok(view(backend, fleet.snapshot())).build())
                .orElseGet(() -> error(new FleetException(404, "backend_not_found",
                        "No backend is named '" + printable(name) + "'."))));
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response register(@HeaderParam("Authorization") String authorization, String body) {
        return authorized(authorization, () -> mutation(() -> {
            LiveBackend backend = fleet.register(parse(body));
            return Response.status(201).entity(view(backend, fleet.snapshot())).build();
        }));
    }

    @PATCH
    @Path("/{name}")
    @Consumes(MediaType.WILDCARD)
    public Response change(@HeaderParam("Authorization") String authorization, @PathParam("name") String name,
                           String body) {
        return authorized(authorization, () -> mutation(() -> {
            LiveBackend backend = fleet.change(name, parse(body));
            return Response.ok(view(backend, fleet.snapshot())).build();
        }));
    }

    @POST
    @Path("/{name}/drain")
    @Consumes(MediaType.WILDCARD)
    public Response drain(@HeaderParam("Authorization") String authorization, @PathParam("name") String name,
                          String body) {
        return authorized(authorization, () -> mutation(() -> {
            LiveBackend backend = fleet.drain(name, deadlineMs(body));
            return Response.status(202).entity(view(backend, fleet.snapshot())).build();
        }));
    }

    @POST
    @Path("/{name}/undrain")
    @Consumes(MediaType.WILDCARD)
    public Response undrain(@HeaderParam("Authorization") String authorization, @PathParam("name") String name) {
        return authorized(authorization, () -> mutation(() -> {
            LiveBackend backend = fleet.undrain(name);
            return Response.ok(view(backend, fleet.snapshot())).build();
        }));
    }

    @DELETE
    @Path("/{name}")
    public Response deregister(@HeaderParam("Authorization") String authorization, @PathParam("name") String name,
                               @QueryParam("deadline_seconds") Long deadlineSeconds) {
        return authorized(authorization, () -> mutation(() -> {
            long deadline = deadlineSeconds == null ? config.drainDeadline().toMillis()
                    : checkedDeadline(deadlineSeconds) * 1000;
            LiveBackend backend = fleet.deregister(name, deadline);
            return Response.status(202).entity(view(backend, fleet.snapshot())).build();
        }));
    }

    private BackendView view(LiveBackend backend, FleetSnapshot snapshot) {
        return BackendView.of(backend, snapshot, fleet.registration(backend.name()));
    }

    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            throw new FleetException(400, "invalid_body", "The body must be a JSON object.");
        }
        try {
            return json.mapper().readTree(body);
        } catch (Exception e) {
            throw new FleetException(400, "invalid_body", "The body is not valid JSON.");
        }
    }

    /** The drain deadline: {@code {"deadline_seconds":n}} in the body, else the configured default. */
    private long deadlineMs(String body) {
        if (body == null || body.isBlank()) {
            return config.drainDeadline().toMillis();
        }
        JsonNode deadline = parse(body).get("deadline_seconds");
        if (deadline == null || deadline.isNull()) {
            return config.drainDeadline().toMillis();
        }
        if (!deadline.isIntegralNumber()) {
            throw new FleetException(400, "invalid_body", "deadline_seconds must be an integer.");
        }
        return checkedDeadline(deadline.longValue()) * 1000;
    }

    private static long checkedDeadline(long seconds) {
        if (seconds < 1 || seconds > MAX_DEADLINE_SECONDS) {
            throw new FleetException(400, "invalid_body", "deadline_seconds must be between 1 and "
                    + MAX_DEADLINE_SECONDS + ", got " + seconds + ".");
        }
        return seconds;
    }

    private static Response mutation(Supplier<Response> change) {
        try {
            return change.get();
        } catch (FleetException e) {
            return error(e);
        }
    }

    private Response authorized(String authorization, Supplier<Response> action) {
        Optional<String> token = config.adminToken().map(String::trim).filter(t -> !t.isEmpty());
        if (token.isEmpty()) {
            return error(OpenAiError.invalidRequest(404, "Not found.", null, "not_found"));
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                || !MessageDigest.isEqual(authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8),
                token.get().getBytes(StandardCharsets.UTF_8))) {
            return error(new OpenAiError(401, "A valid admin bearer token is required.", "authentication_error",
                    null, "invalid_admin_token"));
        }
        return action.get();
    }

    private static Response error(FleetException e) {
        return error(e.status() >= 500 ? OpenAiError.server(e.status(), e.getMessage(), e.code())
                : OpenAiError.invalidRequest(e.status(), e.getMessage(), null, e.code()));
    }

    static Response error(OpenAiError error) {
        return Response.status(error.status()).type(MediaType.APPLICATION_JSON).entity(error.toJson()).build();
    }

    private static String printable(String value) {
        String bounded = value.length() > 64 ? value.substring(0, 64) + "..." : value;
        return bounded.replaceAll("\\p{Cntrl}", "?");
    }
}

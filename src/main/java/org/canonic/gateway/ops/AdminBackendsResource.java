package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;
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
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.FleetException;
import org.canonic.gateway.fleet.FleetSnapshot;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.state.StateStoreUnavailable;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The backend registry's admin API, behind the admin bearer token ({@link AdminAuth}):
 * <ul>
 *   <li>{@code GET /admin/backends}: the maintenance lock's state and every backend; {@code GET .../{name}}: one;</li>
 *   <li>{@code POST /admin/backends}: registers a backend (201); it starts PENDING and serves once its probes
 *       pass;</li>
 *   <li>{@code PATCH /admin/backends/{name}}: changes a registered backend's routes, order, limits, clocks;</li>
 *   <li>{@code POST /admin/backends/{name}/drain} ({@code {"deadline_seconds":n}} optional) and {@code /undrain};</li>
 *   <li>{@code DELETE /admin/backends/{name}} ({@code ?deadline_seconds=n}): deregisters; drains first (202).</li>
 * </ul>
 * Every change is checked as strictly as start-up configuration, made under the maintenance lock (423 while someone
 * else holds it; the check and the change are one step), written to the audit log with its before and after, and
 * answered with the resulting backend view. A refused change changes nothing.
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
    AdminAuth auth;

    @Inject
    MaintenanceLock lock;

    @Inject
    AuditedChange audited;

    @Inject
    ObjectMapper mapper;

    @Inject
    BackendAddresses addresses;

    @GET
    public Response list(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        auth.require(authorization, request);
        FleetSnapshot snapshot = fleet.snapshot();
        List<BackendView> views = new ArrayList<>();
        snapshot.backends().values().forEach(backend -> views.add(view(backend, snapshot)));
        fleet.leaving().forEach(backend -> views.add(view(backend, snapshot)));
        ObjectNode answer = mapper.createObjectNode();
        answer.set("maintenance", maintenance());
        answer.set("backends", mapper.valueToTree(views));
        return Response.ok(answer).build();
    }

    @GET
    @Path("/{name}")
    public Response one(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                        @PathParam("name") String name) {
        auth.require(authorization, request);
        return fleet.find(name).map(backend -> Response.ok(view(backend, fleet.snapshot())).build())
                .orElseGet(() -> error(new FleetException(404, "backend_not_found",
                        "No backend is named '" + OpenAiError.echo(name, 64) + "'.")));
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response register(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                             @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                             @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, String body) {
        auth.require(authorization, request);
        String target = nameIn(body);
        Prepared prepared = prepared(() -> {
            JsonNode json = parse(body);
            addresses.check(json.path("base_url").isTextual() ? json.get("base_url").asText() : null);
            return fleet.prepareRegistration(json);
        });
        return changed("backend.register", target, actor, token, fencing -> {
            LiveBackend backend = fleet.register(prepared.get(), fencing);
            return Response.status(201).entity(view(backend, fleet.snapshot())).build();
        });
    }

    @PATCH
    @Path("/{name}")
    @Consumes(MediaType.WILDCARD)
    public Response change(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                           @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("name") String name,
                           String body) {
        auth.require(authorization, request);
        Prepared prepared = prepared(() -> fleet.prepareChange(name, parse(body)));
        return changed("backend.change", name, actor, token, fencing -> {
            LiveBackend backend = fleet.change(prepared.get(), fencing);
            return Response.ok(view(backend, fleet.snapshot())).build();
        });
    }

    @POST
    @Path("/{name}/drain")
    @Consumes(MediaType.WILDCARD)
    public Response drain(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                          @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                          @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("name") String name,
                          String body) {
        auth.require(authorization, request);
        return changed("backend.drain", name, actor, token, fencing -> {
            LiveBackend backend = fleet.drain(name, deadlineMs(body));
            return Response.status(202).entity(view(backend, fleet.snapshot())).build();
        });
    }

    @POST
    @Path("/{name}/undrain")
    @Consumes(MediaType.WILDCARD)
    public Response undrain(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                            @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                            @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("name") String name) {
        auth.require(authorization, request);
        return changed("backend.undrain", name, actor, token, fencing -> {
            LiveBackend backend = fleet.undrain(name);
            return Response.ok(view(backend, fleet.snapshot())).build();
        });
    }

    @DELETE
    @Path("/{name}")
    public Response deregister(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                               @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                               @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("name") String name,
                               @QueryParam("deadline_seconds") Long deadlineSeconds) {
        auth.require(authorization, request);
        return changed("backend.deregister", name, actor, token, fencing -> {
            long deadline = deadlineSeconds == null ? config.drainDeadline().toMillis()
                    : checkedDeadline(deadlineSeconds) * 1000;
            LiveBackend backend = fleet.deregister(name, deadline, fencing);
            return Response.status(202).entity(view(backend, fleet.snapshot())).build();
        });
    }

    /** A change under the maintenance lock, audited with the backend's view before and after. */
    private Response changed(String action, String target, String actor, String token,
                             Function<Long, Response> change) {
        return audited.make(action, target, actor, token, snapshotOf(target), change,
                e -> e instanceof FleetException refused ? new AuditedChange.Refused(refused.code(), error(refused))
                        : null, after -> target);
    }

    /** The lock's state; without the shared store the list still answers (this replica's view of the fleet). */
    private JsonNode maintenance() {
        try {
            return lock.toJson(lock.status());
        } catch (StateStoreUnavailable e) {
            ObjectNode unknown = mapper.createObjectNode();
            unknown.putNull("held");
            unknown.put("error", StateStoreUnavailable.CODE);
            return unknown;
        }
    }

    private JsonNode snapshotOf(String name) {
        if (name == null) {
            return null;
        }
        return fleet.find(name).map(backend -> (JsonNode) mapper.valueToTree(view(backend, fleet.snapshot())))
                .orElse(null);
    }

    private BackendView view(LiveBackend backend, FleetSnapshot snapshot) {
        return BackendView.of(backend, snapshot, fleet.registration(backend.name()));
    }

    /**
     * A change checked, and its files read and its address resolved, before the maintenance lock is taken: a slow
     * file or a slow DNS answer never holds the lock (nor the fleet). A refusal found here is raised where the change
     * would have been made, so that it is audited like any other.
     */
    private record Prepared(Fleet.Prepared change, FleetException refusal) {
        Fleet.Prepared get() {
            if (refusal != null) {
                throw refusal;
            }
            return change;
        }
    }

    private static Prepared prepared(java.util.function.Supplier<Fleet.Prepared> preparation) {
        try {
            return new Prepared(preparation.get(), null);
        } catch (FleetException e) {
            return new Prepared(null, e);
        }
    }

    /** The name a registration body gives, for the audit log only (the registry checks the body itself). */
    private String nameIn(String body) {
        try {
            JsonNode name = AdminJson.read(mapper, body == null ? "" : body).path("name");
            return name.isTextual() ? OpenAiError.echo(name.asText(), 64) : null;
        } catch (Exception e) {
            return null;
        }
    }

    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            throw new FleetException(400, "invalid_body", "The body must be a JSON object.");
        }
        try {
            return AdminJson.read(mapper, body);
        } catch (Exception e) {
            throw new FleetException(400, "invalid_body", AdminJson.problem(e));
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

    private static Response error(FleetException e) {
        OpenAiError error = e.status() >= 500 ? OpenAiError.server(e.status(), e.getMessage(), e.code())
                : OpenAiError.invalidRequest(e.status(), e.getMessage(), null, e.code());
        return AdminErrors.respond(error, 0);
    }
}

package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.CacheControl;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.LockRequestException;
import org.canonic.gateway.coordination.Locked;
import org.canonic.gateway.coordination.MaintenanceLock;

import java.util.List;
import java.util.function.Function;

/**
 * The maintenance lock over HTTP:
 * <ul>
 *   <li>{@code POST /admin/lock} {@code {"holder","reason","ttl_seconds"}} → 201 with the token (shown once);</li>
 *   <li>{@code GET /admin/lock} → the lock without its token;</li>
 *   <li>{@code DELETE /admin/lock} with {@code X-Gateway-Lock-Token}, or {@code ?force=true} (admin override);</li>
 *   <li>{@code PUT /admin/lock/renew} with {@code X-Gateway-Lock-Token} and optionally {@code {"ttl_seconds"}}.</li>
 * </ul>
 * Every call needs the admin bearer token first. Every authenticated mutation attempt is audited, refusals with their
 * error code; refusals are OpenAI-shaped (see {@link AdminErrors}) and change nothing.
 */
@Path("/admin/lock")
@Produces(MediaType.APPLICATION_JSON)
public class LockResource {

    private static final List<String> ACQUIRE_FIELDS = List.of("holder", "reason", "ttl_seconds");
    private static final List<String> RENEW_FIELDS = List.of("ttl_seconds");

    @Inject
    AdminAuth auth;

    @Inject
    MaintenanceLock lock;

    @Inject
    AuditLog audit;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response status(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        auth.require(authorization, request);
        return Response.ok(json(lock.toJson(lock.status()))).build();
    }

    @POST
    public Response acquire(@HeaderParam("Authorization") String authorization,
                            @HeaderParam(AuditLog.ACTOR_HEADER) String actor, @Context HttpServerRequest request,
                            String body) {
        auth.require(authorization, request);
        return audited("lock.acquire", actor, caller -> {
            LockRequestBody fields = LockRequestBody.parse(mapper, body, ACQUIRE_FIELDS, false);
            MaintenanceLock.Grant grant = lock.acquire(fields.text("holder"), fields.text("reason"),
                    fields.seconds("ttl_seconds"), caller);
            ObjectNode answer = mapper.createObjectNode();
            answer.put("holder", grant.holder());
            answer.put("reason", grant.reason());
            answer.put("token", grant.token());
            answer.put("fencing", grant.fencing());
            answer.put("expires_at", grant.expiresAt().toString());
            // The only answer that ever carries the token: no cache may keep it.
            return Response.status(201).cacheControl(noStore()).entity(json(answer)).build();
        });
    }

    @DELETE
    public Response release(@HeaderParam("Authorization") String authorization,
                            @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                            @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @QueryParam("force") String force,
                            @Context HttpServerRequest request) {
        auth.require(authorization, request);
        boolean forced = force != null && force.strip().equalsIgnoreCase("true");
        if (force != null && !forced && !force.strip().equalsIgnoreCase("false")) {
            return audited("lock.release", actor, caller -> {
                throw LockRequestException.invalid("force must be true or false.", "force", "invalid_force");
            });
        }
        return audited(forced ? "lock.force_release" : "lock.release", actor, caller -> {
            MaintenanceLock.Status released = forced ? lock.forceRelease(caller) : lock.release(token, caller);
            ObjectNode answer = mapper.createObjectNode();
            answer.put("released", true);
            answer.put("forced", forced);
            answer.put("holder", released.holder());
            answer.put("fencing", released.fencing());
            return Response.ok(json(answer)).build();
        });
    }

    @PUT
    @Path("renew")
    public Response renew(@HeaderParam("Authorization") String authorization,
                          @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                          @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @Context HttpServerRequest request,
                          String body) {
        auth.require(authorization, request);
        return audited("lock.renew", actor, caller -> {
            LockRequestBody fields = LockRequestBody.parse(mapper, body, RENEW_FIELDS, true);
            MaintenanceLock.Status renewed = lock.renew(token, fields.seconds("ttl_seconds"), caller);
            return Response.ok(json(lock.toJson(renewed))).build();
        });
    }

    /**
     * Runs an authenticated mutation; a refusal is audited (best effort: it changed nothing) and then answered by
     * {@link AdminErrors}. Successful mutations are audited by the lock itself, together with the change.
     */
    private Response audited(String action, String actor, Function<String, Response> mutation) {
        String caller = AuditLog.caller(actor);
        try {
            return mutation.apply(caller);
        } catch (Locked e) {
            audit.recordRefusal(caller, action, MaintenanceLock.TARGET, lock.toJson(lock.status()), Locked.CODE,
                    null);
            throw e;
        } catch (LockRequestException e) {
            audit.recordRefusal(caller, action, MaintenanceLock.TARGET, lock.toJson(lock.status()), e.code(), null);
            throw e;
        }
    }

    private String json(ObjectNode node) {
        try {
            return mapper.writeValueAsString(node);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static CacheControl noStore() {
        CacheControl cache = new CacheControl();
        cache.setNoStore(true);
        return cache;
    }
}

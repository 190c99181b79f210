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
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.capacity.CapacityController;
import org.canonic.gateway.capacity.CapacityPolicies;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.relay.OpenAiError;

/**
 * Capacity policies' admin API, behind the admin token:
 * <ul>
 *   <li>{@code GET /admin/compute/capacity}: each policy, its current and desired instances, the last decisions
 *       with their reasons, the projected spend for the rest of the UTC day against the daily cap</li>
 *   <li>{@code PUT /admin/compute/capacity/{recipe}}: sets a recipe's policy (fields left out keep their value),
 *       under the maintenance lock and audited like every compute change; {@code DELETE} takes it away; both are
 *       stored for every replica (state directory or Redis)</li>
 * </ul>
 */
@Path("/admin/compute/capacity")
@Produces(MediaType.APPLICATION_JSON)
public class CapacityResource {

    @Inject
    CapacityController controller;

    @Inject
    CapacityPolicies policies;

    @Inject
    AdminAuth auth;

    @Inject
    AuditedChange audited;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response view(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        auth.require(authorization, request);
        policies.sync();
        return Response.ok(controller.view()).build();
    }

    @PUT
    @Path("/{recipe}")
    @Consumes(MediaType.WILDCARD)
    public Response put(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                        @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                        @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("recipe") String recipe,
                        String body) {
        auth.require(authorization, request);
        policies.sync();
        JsonNode before = controller.policy(recipe).map(p -> (JsonNode) p.view()).orElse(null);
        return audited.make("compute.capacity", recipe, actor, token, before, fencing -> {
            JsonNode parsed = parse(body);
            return Response.ok(policies.put(controller, recipe, parsed)).build();
        }, e -> e instanceof ComputeException refused ? new AuditedChange.Refused(refused.code(), error(refused))
                : null, after -> recipe);
    }

    @DELETE
    @Path("/{recipe}")
    public Response delete(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                           @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token,
                           @PathParam("recipe") String recipe) {
        auth.require(authorization, request);
        policies.sync();
        JsonNode before = controller.policy(recipe).map(p -> (JsonNode) p.view()).orElse(null);
        return audited.make("compute.capacity.delete", recipe, actor, token, before, fencing -> {
            policies.remove(recipe).orElseThrow(() -> new ComputeException(404, "capacity_policy_not_found",
                    "No capacity policy is set for recipe '" + OpenAiError.echo(recipe, 64) + "'."));
            ObjectNode answer = mapper.createObjectNode();
            answer.put("recipe", recipe);
            answer.put("removed", true);
            return Response.ok(answer).build();
        }, e -> e instanceof ComputeException refused ? new AuditedChange.Refused(refused.code(), error(refused))
                : null, after -> recipe);
    }

    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            throw new ComputeException(400, "invalid_body", "The body must be a JSON object of policy fields.");
        }
        try {
            return mapper.readTree(body);
        } catch (Exception e) {
            throw new ComputeException(400, "invalid_body", "The body is not valid JSON.");
        }
    }

    private Response error(ComputeException e) {
        String param = e.details() == null ? null : e.details().path("param").asText(null);
        OpenAiError error = e.status() >= 500 ? OpenAiError.server(e.status(), e.getMessage(), e.code())
                : OpenAiError.invalidRequest(e.status(), e.getMessage(), param, e.code());
        return AdminErrors.respond(error, 0);
    }
}

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
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.keys.ClientKeyRegistry;
import org.canonic.gateway.keys.KeyRefused;
import org.canonic.gateway.relay.OpenAiError;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Client keys without a restart, behind the admin bearer token ({@link AdminAuth}):
 * <ul>
 *   <li>{@code POST /admin/keys} ({@code {"id":"...","routes":["..."]}}, both optional): makes a key and answers it
 *       once (201, {@code "key"}); only its SHA-256 is stored, in the state store, so every replica accepts it;</li>
 *   <li>{@code GET /admin/keys}: every accepted key's id, source ({@code env}, {@code file}, {@code admin}), routes,
 *       creation and last use; never a key or its digest;</li>
 *   <li>{@code DELETE /admin/keys/{id}}: deletes a key made here; every replica refuses it within seconds, requests
 *       already admitted finish. Keys of the environment or the key file are removed there instead (409).</li>
 * </ul>
 * Changes are made under the maintenance lock and audited ({@code key.create}, {@code key.delete}) like every admin
 * change; the audit line holds the key's view, never the key.
 */
@Path("/admin/keys")
@Produces(MediaType.APPLICATION_JSON)
public class KeysResource {

    @Inject
    ClientKeyRegistry keys;

    @Inject
    AdminAuth auth;

    @Inject
    AuditedChange audited;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response list(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        auth.require(authorization, request);
        ObjectNode answer = mapper.createObjectNode();
        answer.put("object", "list");
        keys.list().forEach(view -> answer.withArray("data").add(json(view)));
        answer.withArray("data");
        return Response.ok(answer).build();
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response create(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                           @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, String body) {
        auth.require(authorization, request);
        JsonNode parsed;
        try {
            parsed = parse(body);
        } catch (KeyRefused e) {
            return error(e);
        }
        String id = parsed.path("id").isTextual() ? parsed.get("id").asText() : null;
        List<String> routes = new ArrayList<>();
        parsed.path("routes").forEach(route -> routes.add(route.asText()));
        // The key goes to the caller only: what the audit log keeps (the change's answer) is its view.
        AtomicReference<String> made = new AtomicReference<>();
        Response response = audited.make("key.create", id, actor, token, null, fencing -> {
            ClientKeyRegistry.Created created = keys.create(id, routes);
            made.set(created.key());
            return Response.status(201).entity(json(created.view())).build();
        }, KeysResource::refusal, after -> after.path("id").asText(null));
        if (response.getStatus() != 201 || made.get() == null) {
            return response;
        }
        ObjectNode answer = ((ObjectNode) response.getEntity()).deepCopy();
        answer.put("key", made.get());
        answer.put("note", "This is the only time the key is shown; only its SHA-256 is kept.");
        return Response.status(201).entity(answer).header("Cache-Control", "no-store").build();
    }

    @DELETE
    @Path("/{id}")
    public Response delete(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                           @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("id") String id) {
        auth.require(authorization, request);
        ClientKeyRegistry.View before = keys.find(id);
        return audited.make("key.delete", OpenAiError.echo(id, 64), actor, token,
                before == null ? null : json(before),
                fencing -> Response.ok(json(keys.delete(id))).build(), KeysResource::refusal, after -> id);
    }

    private ObjectNode json(ClientKeyRegistry.View view) {
        ObjectNode node = mapper.createObjectNode();
        node.put("id", view.id());
        node.put("source", view.source().name().toLowerCase(Locale.ROOT));
        view.routes().forEach(node.putArray("routes")::add);
        node.withArray("routes");
        node.put("created", view.created() == null ? null : view.created().toString());
        node.put("last_used", view.lastUsed() == null ? null : view.lastUsed().toString());
        return node;
    }

    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return mapper.createObjectNode();
        }
        JsonNode parsed;
        try {
            parsed = mapper.readTree(body);
        } catch (Exception e) {
            throw new KeyRefused(400, "invalid_body", null, "The body is not valid JSON.");
        }
        if (parsed == null || !parsed.isObject()) {
            throw new KeyRefused(400, "invalid_body", null, "The body must be a JSON object.");
        }
        parsed.fieldNames().forEachRemaining(field -> {
            if (!field.equals("id") && !field.equals("routes")) {
                throw new KeyRefused(400, "unknown_field", OpenAiError.echo(field, 64),
                        "Unknown field; a key takes 'id' and 'routes'.");
            }
        });
        JsonNode id = parsed.get("id");
        if (id != null && !id.isNull() && !id.isTextual()) {
            throw new KeyRefused(400, "invalid_value", "id", "'id' must be a string.");
        }
        JsonNode routes = parsed.get("routes");
        if (routes != null && !routes.isNull() && (!routes.isArray() || routes.size() > 64
                || !java.util.stream.StreamSupport.stream(routes.spliterator(), false).allMatch(JsonNode::isTextual))) {
            throw new KeyRefused(400, "invalid_value", "routes",
                    "'routes' must be a list of at most 64 route names.");
        }
        return parsed;
    }

    private static AuditedChange.Refused refusal(RuntimeException e) {
        return e instanceof KeyRefused refused
                ? new AuditedChange.Refused(refused.code(), error(refused)) : null;
    }

    private static Response error(KeyRefused e) {
        return AdminErrors.respond(OpenAiError.invalidRequest(e.status(), e.getMessage(), e.param(), e.code()), 0);
    }
}

package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.Webhooks;
import org.canonic.gateway.relay.OpenAiError;

/**
 * {@code GET /admin/audit?limit=N} (1-200, default 50): the newest audit lines, newest first, as {@code audit.jsonl}
 * holds them (every replica's with the Redis store), and {@code GET /admin/audit/webhooks}: how webhook delivery went
 * since start. What the console shows under "recent activity"; read-only, so no lock.
 */
@Path("/admin/audit")
@Produces(MediaType.APPLICATION_JSON)
public class AuditResource {

    static final int MAX_LIMIT = 200;

    @Inject
    AdminAuth auth;

    @Inject
    AuditLog audit;

    @Inject
    Webhooks webhooks;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response recent(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @QueryParam("limit") String limit) {
        auth.require(authorization, request);
        int count = 50;
        if (limit != null) {
            try {
                count = Integer.parseInt(limit.strip());
            } catch (NumberFormatException e) {
                count = -1;
            }
            if (count < 1 || count > MAX_LIMIT) {
                return AdminErrors.respond(OpenAiError.invalidRequest(400, "limit must be a whole number from 1 to "
                        + MAX_LIMIT + ".", "limit", "invalid_limit"), 0);
            }
        }
        ObjectNode answer = mapper.createObjectNode();
        answer.put("object", "list");
        ArrayNode data = answer.putArray("data");
        audit.recent(count).forEach(data::add);
        return Response.ok(answer).build();
    }

    @GET
    @Path("/webhooks")
    public Response webhooks(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        auth.require(authorization, request);
        Webhooks.Stats stats = webhooks.stats();
        ObjectNode answer = mapper.createObjectNode();
        answer.put("receivers", stats.receivers());
        answer.put("signed", stats.signed());
        answer.put("delivered", stats.delivered());
        answer.put("failed_attempts", stats.failedAttempts());
        answer.put("dropped", stats.dropped());
        answer.put("queued", stats.queued());
        return Response.ok(answer).build();
    }
}

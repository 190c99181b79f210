package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.state.Replicas;
import org.canonic.gateway.state.StateStore;

/**
 * {@code GET /admin/replicas}: which state store this replica uses and, with Redis, who leads the periodic jobs and
 * how many replicas are alive: {@code {"store","replica","leader","leader_id","replicas","store_reachable"}}.
 * Read from this replica's last heartbeat, so it answers while Redis is away (and says so).
 */
@Path("/admin/replicas")
@Produces(MediaType.APPLICATION_JSON)
public class ReplicasResource {

    @Inject
    AdminAuth auth;

    @Inject
    StateStore store;

    @Inject
    Replicas replicas;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response view(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        auth.require(authorization, request);
        ObjectNode answer = mapper.createObjectNode();
        answer.put("store", store.kind().name().toLowerCase(java.util.Locale.ROOT));
        answer.put("replica", store.replicaId());
        answer.put("leader", replicas.leader());
        answer.put("leader_id", replicas.leaderId());
        answer.put("replicas", replicas.replicas());
        answer.put("store_reachable", replicas.reachable());
        return Response.ok(answer).build();
    }
}

package org.canonic.gateway.health;

import com.fasterxml.jackson.databind.JsonNode;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;

/** A RunPod serverless endpoint's worker and queue counts, relative to {@code /v2/<endpoint-id>}. Free to call. */
@Path("/")
interface RunPodControlApi {

    @GET
    @Path("health")
    Uni<JsonNode> health(@HeaderParam("Authorization") String authorization);
}

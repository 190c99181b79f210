package org.canonic.gateway.health;

import com.fasterxml.jackson.databind.JsonNode;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Response;

/**
 * The read-only control endpoints of a vLLM server (or any OpenAI-compatible API), relative to the server root.
 * None of them runs a completion: probes must never cost GPU time or money. Built per backend at runtime by
 * {@link BackendProbe}, which alone adds timeouts and turns answers into {@link ProbeResult}s.
 */
@Path("/")
interface VllmControlApi {

    /** 200 with an empty body when the engine is alive; vLLM leaves it open even when started with --api-key. */
    @GET
    @Path("health")
    Uni<Response> health();

    /** The served models with {@code max_model_len}; protected by the backend's key. */
    @GET
    @Path("v1/models")
    Uni<JsonNode> models(@HeaderParam("Authorization") String authorization);
}

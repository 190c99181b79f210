package org.canonic.gateway.ops;

import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.relay.OpenAiError;

/**
 * Any {@code /admin} path no admin resource serves: the same bearer check first (so without the token nobody learns
 * which admin paths exist, and without a configured token the whole admin API is a 404), then an OpenAI-shaped 404.
 * JAX-RS prefers resources with longer literal paths, so every real admin resource wins over this one.
 */
@Path("/admin{rest: (/.*)?}")
@Produces(MediaType.APPLICATION_JSON)
public class AdminFallbackResource {

    @Inject
    AdminAuth auth;

    @GET
    public Response get(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        return notFound(authorization, request);
    }

    @POST
    public Response post(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        return notFound(authorization, request);
    }

    @PUT
    public Response put(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        return notFound(authorization, request);
    }

    @PATCH
    public Response patch(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        return notFound(authorization, request);
    }

    @DELETE
    public Response delete(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        return notFound(authorization, request);
    }

    private Response notFound(String authorization, HttpServerRequest request) {
        auth.require(authorization, request);
        return AdminErrors.respond(OpenAiError.invalidRequest(404, "No admin endpoint at this path.", null,
                "not_found"), 0);
    }
}

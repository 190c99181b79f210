package org.canonic.gateway.api;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.container.ContainerRequestContext;
import org.canonic.gateway.relay.ClientChannel;
import org.canonic.gateway.relay.GatewayHeaders;
import org.canonic.gateway.relay.OpenAiError;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every answer an OpenAI client can get is OpenAI-shaped JSON, including for URLs and methods the gateway does not
 * serve: a client (or an SDK pointed at the wrong base URL) then shows a readable error, never an HTML page or an
 * empty body.
 */
@ApplicationScoped
public class UnknownUrls {

    /** Longest part of a path repeated in an error message. */
    private static final int MAX_PATH_IN_MESSAGE = 200;

    /** Runs only when no route and no JAX-RS resource took the request. */
    void register(@Observes Router router) {
        router.route().last().handler(UnknownUrls::notFound);
    }

    private static void notFound(RoutingContext ctx) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        new ClientChannel(ctx.response(), RequestIds.fromHeader(ctx.request().getHeader(GatewayHeaders.REQUEST_ID)))
                .sendError(unknownUrl(ctx.request().method().name(), ctx.request().path()),
                        GatewayHeaders.PROVIDER_NONE, 0, 0);
    }

    static OpenAiError unknownUrl(String method, String path) {
        return OpenAiError.invalidRequest(404, "Unknown request URL: " + method + " " + bounded(path)
                + ". The gateway serves POST /v1/chat/completions, POST /v1/completions and GET /v1/models.",
                null, "unknown_url");
    }

    /** A JAX-RS resource matched the path but not the request: the same shapes. */
    @ServerExceptionMapper
    public Response notFound(NotFoundException e, ContainerRequestContext request) {
        return respond(unknownUrl(request.getMethod(), request.getUriInfo().getPath()));
    }

    @ServerExceptionMapper
    public Response notAllowed(NotAllowedException e, ContainerRequestContext request) {
        UriInfo uri = request.getUriInfo();
        String allowed = String.join(", ", e.getResponse().getAllowedMethods());
        return Response.fromResponse(respond(OpenAiError.invalidRequest(405, request.getMethod() + " is not"
                + " supported on " + bounded(uri.getPath()) + (allowed.isEmpty() ? "." : "; use " + allowed + "."),
                null, "method_not_allowed"))).header(HttpHeaders.ALLOW, allowed.isEmpty() ? null : allowed).build();
    }

    private static Response respond(OpenAiError error) {
        return Response.status(error.status()).type(MediaType.APPLICATION_JSON).entity(error.toJson()).build();
    }

    private static String bounded(String path) {
        return path == null ? "" : path.length() > MAX_PATH_IN_MESSAGE ? path.substring(0, MAX_PATH_IN_MESSAGE) + "..."
                : path;
    }
}

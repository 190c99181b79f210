package org.canonic.gateway.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.policy.Endpoint;
import org.canonic.gateway.policy.PolicyChain;
import org.canonic.gateway.policy.PolicyContext;
import org.canonic.gateway.policy.Refusal;
import org.canonic.gateway.relay.ClientChannel;
import org.canonic.gateway.relay.GatewayHeaders;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.routing.Dispatcher;
import org.jboss.logging.Logger;

/**
 * The proxied OpenAI operations: {@code POST /v1/chat/completions} and {@code POST /v1/completions}.
 *
 * <p>These are plain Vert.x routes rather than JAX-RS resources: the gateway must hold the status line back until
 * its commit point, write each SSE event as it arrives and notice a client leaving, which needs the raw response.
 * Every request takes the same path: the header filters, a bounded body read, the body filters and window fit, then
 * routing. There is no other way in.
 */
@ApplicationScoped
public class ProxyRoutes {

    private static final Logger LOG = Logger.getLogger(ProxyRoutes.class);

    @Inject
    PolicyChain policy;

    @Inject
    Dispatcher dispatcher;

    @Inject
    GatewayConfig config;

    void register(@Observes Router router) {
        router.post(Endpoint.CHAT_COMPLETIONS.clientPath()).handler(ctx -> handle(ctx, Endpoint.CHAT_COMPLETIONS));
        router.post(Endpoint.COMPLETIONS.clientPath()).handler(ctx -> handle(ctx, Endpoint.COMPLETIONS));
        for (Endpoint endpoint : Endpoint.values()) {
            router.route(endpoint.clientPath()).handler(ctx -> refuse(ctx.response(),
                    RequestIds.fromHeader(ctx.request().getHeader(GatewayHeaders.REQUEST_ID)),
                    OpenAiError.invalidRequest(405, "Only POST is supported on " + endpoint.clientPath() + ".",
                            null, "method_not_allowed")));
        }
    }

    private void handle(RoutingContext ctx, Endpoint endpoint) {
        long startNanos = System.nanoTime();
        HttpServerRequest request = ctx.request();
        String requestId = RequestIds.fromHeader(request.getHeader(GatewayHeaders.REQUEST_ID));
        PolicyContext admission = new PolicyContext(requestId, endpoint, request.headers(), startNanos);
        if (LOG.isDebugEnabled()) {
            LOG.debugf("Request %s: %s %s %s", requestId, request.method(), request.path(),
                    RequestLog.headers(request.headers()));
        }
        try {
            policy.checkHeaders(admission);
        } catch (Refusal refusal) {
            // Refused on headers alone: the body is never read, the connection is not reused.
            ctx.response().putHeader("connection", "close");
            refuse(ctx.response(), requestId, refusal.error());
            return;
        }
        Context context = Vertx.currentContext();
        BoundedBody.read(request, config.limits().maxBodySize().asLongValue()).onComplete(read -> {
            if (read.failed()) {
                if (read.cause() instanceof BoundedBody.TooLarge) {
                    ctx.response().putHeader("connection", "close");
                    refuse(ctx.response(), requestId, OpenAiError.invalidRequest(413,
                            "The request body exceeds " + config.limits().maxBodySize().asLongValue() + " bytes.",
                            null, "request_too_large"));
                } else {
                    LOG.debugf("Request %s: body could not be read (%s)", requestId, read.cause().toString());
                    ctx.response().close();
                }
                return;
            }
            admission.body(read.result());
            policy.admit(admission).onComplete(admitted -> context.runOnContext(v -> {
                if (admitted.succeeded()) {
                    dispatcher.dispatch(admitted.result(), new ClientChannel(ctx.response(), requestId));
                } else if (admitted.cause() instanceof Refusal refusal) {
                    refuse(ctx.response(), requestId, refusal.error());
                } else {
                    LOG.errorf(admitted.cause(), "Request %s: admission failed unexpectedly", requestId);
                    refuse(ctx.response(), requestId, OpenAiError.server(500,
                            "The request could not be validated, so it was not forwarded.", "validation_unavailable"));
                }
            }));
        });
    }

    private static void refuse(HttpServerResponse response, String requestId, OpenAiError error) {
        if (response.ended() || response.closed()) {
            return;
        }
        new ClientChannel(response, requestId).sendError(error, GatewayHeaders.PROVIDER_NONE, 0, 0);
    }
}

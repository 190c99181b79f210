package org.canonic.gateway.api;

import io.vertx.core.AsyncResult;
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
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.routing.Dispatcher;
import org.canonic.gateway.telemetry.Outcome;
import org.canonic.gateway.telemetry.RequestRecord;
import org.canonic.gateway.telemetry.Telemetry;
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

    @Inject
    Telemetry telemetry;

    @Inject
    GracefulShutdown shutdown;

    /** A replica restarting is back (or another one answers) within seconds. */
    private static final long SHUTDOWN_RETRY_AFTER_SECONDS = 5;

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
        RequestRecord record = telemetry.open(requestId, startNanos);
        PolicyContext admission = new PolicyContext(requestId, endpoint, request.headers(), startNanos);
        if (LOG.isDebugEnabled()) {
            LOG.debugf("Request %s: %s %s %s", requestId, request.method(), request.path(),
                    RequestLog.headers(request.headers()));
        }
        if (shutdown.closing()) {
            // Stopping: send the client elsewhere now, on a fresh connection.
            ctx.response().putHeader("connection", "close");
            OpenAiError stopping = OpenAiError.server(503, "The gateway is shutting down and takes no new requests;"
                    + " retry (another replica will answer).", "gateway_shutting_down");
            new ClientChannel(ctx.response(), requestId).sendError(stopping, GatewayHeaders.PROVIDER_NONE, 0, 0,
                    SHUTDOWN_RETRY_AFTER_SECONDS);
            describe(record, admission, endpoint, false);
            telemetry.close(record, Outcome.UNAVAILABLE, 503, stopping.code());
            return;
        }
        try {
            policy.checkHeaders(admission);
        } catch (Refusal refusal) {
            // Refused on headers alone: the body is never read, the connection is not reused.
            ctx.response().putHeader("connection", "close");
            refuse(ctx, admission, record, refusal.error());
            return;
        }
        Context context = Vertx.currentContext();
        BoundedBody.read(request, config.limits().maxBodySize().asLongValue()).onComplete(read -> {
            if (read.failed()) {
                if (read.cause() instanceof BoundedBody.TooLarge) {
                    ctx.response().putHeader("connection", "close");
                    refuse(ctx, admission, record, OpenAiError.invalidRequest(413, "The request body exceeds "
                            + config.limits().maxBodySize().asLongValue() + " bytes.", null, "request_too_large"));
                } else {
                    LOG.debugf("Request %s: body could not be read (%s)", requestId, read.cause().toString());
                    ctx.response().close();
                    describe(record, admission, endpoint, false);
                    telemetry.close(record, Outcome.CANCELLED, 499, "client_cancelled");
                }
                return;
            }
            admission.body(read.result());
            policy.admit(admission).onComplete(admitted -> {
                // Admission may finish on another thread (a /tokenize answer); the exchange must run on the request's.
                if (Vertx.currentContext() == context) {
                    admitted(ctx, admission, record, endpoint, admitted);
                } else {
                    context.runOnContext(v -> admitted(ctx, admission, record, endpoint, admitted));
                }
            });
        });
    }

    private void admitted(RoutingContext ctx, PolicyContext admission, RequestRecord record, Endpoint endpoint,
                          AsyncResult<ProxyRequest> admitted) {
        if (admitted.failed()) {
            refuse(ctx, admission, record, PolicyChain.asRefusal(admission.requestId(), admitted.cause()).error());
            return;
        }
        ProxyRequest proxied = admitted.result();
        describe(record, admission, endpoint, proxied.stream());
        if (ctx.response().closed()) {
            // The client left while the request was being validated: nobody would read an answer.
            telemetry.close(record, Outcome.CANCELLED, 499, "client_cancelled");
            return;
        }
        dispatcher.dispatch(proxied, new ClientChannel(ctx.response(), admission.requestId()), record);
    }

    /**
     * What the record knows of the request: what validation established (key id, route, model name) and, for a
     * refusal before routing, the model name and stream flag as the client sent them (bounded, printable).
     */
    private static void describe(RequestRecord record, PolicyContext admission, Endpoint endpoint, boolean stream) {
        boolean routed = admission.route() != null;
        record.request(admission.keyId(), routed ? admission.route().name() : null,
                routed ? admission.model() : admission.requestedModel(), endpoint.operation(),
                stream || admission.requestedStream());
    }

    private void refuse(RoutingContext ctx, PolicyContext admission, RequestRecord record, OpenAiError error) {
        refuse(ctx.response(), admission.requestId(), error);
        describe(record, admission, admission.endpoint(), false);
        telemetry.close(record, Outcome.REFUSED, error.status(), error.code());
    }

    /** Refusals that no request record covers (wrong method). */
    private static void refuse(HttpServerResponse response, String requestId, OpenAiError error) {
        if (response.ended() || response.closed()) {
            return;
        }
        new ClientChannel(response, requestId).sendError(error, GatewayHeaders.PROVIDER_NONE, 0, 0);
    }
}

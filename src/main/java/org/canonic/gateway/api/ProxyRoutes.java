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
import org.canonic.gateway.memory.BodyBudget;
import org.canonic.gateway.policy.Endpoint;
import org.canonic.gateway.policy.KeyLoader;
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

    /** How long a refused client may go on sending (discarded) so that it reads the refusal. */
    private static final long LINGER_MS = 2_000;

    /** A replica restarting is back (or another one answers) within seconds. */
    static final long SHUTDOWN_RETRY_AFTER_SECONDS = 5;

    @Inject
    BodyBudget bodyBudget;

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
        RequestRecord record = telemetry.open(requestId, startNanos, request.headers());
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
            refuseAndClose(ctx, admission, record, Outcome.REFUSED, refusal.error());
            return;
        }
        Context context = Vertx.currentContext();
        // The body's bytes count against the budget for as long as the request lives, in whatever form it takes.
        BodyBudget.Lease lease = bodyBudget.lease(budgetHolder(request, admission));
        ctx.addEndHandler(ended -> lease.release());
        BoundedBody.read(context.owner(), request, config.limits().maxBodySize().asLongValue(), bodyBudget, lease,
                config.limits().bodyReadTimeout().toMillis()).onComplete(read -> {
            if (read.failed()) {
                bodyFailed(ctx, admission, record, endpoint, lease, read.cause());
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

    /**
     * A body that could not be read: too large (413), over the body budget (503, retry shortly), too slow (408).
     * Each is answered and its connection closed (the rest of the body is not worth reading); a client that left
     * gets no answer. Every one gets its ledger line.
     */
    private void bodyFailed(RoutingContext ctx, PolicyContext admission, RequestRecord record, Endpoint endpoint,
                            BodyBudget.Lease lease, Throwable cause) {
        if (cause instanceof BoundedBody.TooLarge) {
            refuseAndLinger(ctx, admission, record, Outcome.REFUSED, OpenAiError.invalidRequest(413,
                    "The request body exceeds " + config.limits().maxBodySize().asLongValue() + " bytes.", null,
                    "request_too_large"));
        } else if (cause instanceof BoundedBody.OverBudget && lease.shareFull()) {
            bodyBudget.refused(BodyBudget.Body.REQUEST);
            refuseAndLinger(ctx, admission, record, Outcome.REFUSED, new OpenAiError(429, "This client holds as many "
                    + "request bytes as its share of the gateway's memory budget allows (" + bodyBudget.share()
                    + " bytes, gateway.limits.body-budget-share), in bodies still arriving or being served. Finish "
                    + "or close those, then retry.", "rate_limit_error", null, "body_budget_share_exhausted"));
        } else if (cause instanceof BoundedBody.OverBudget) {
            bodyBudget.refused(BodyBudget.Body.REQUEST);
            refuseAndLinger(ctx, admission, record, Outcome.UNAVAILABLE, OpenAiError.server(503, "The gateway holds as "
                    + "many request and answer bytes as its memory budget allows. Retry shortly.",
                    "body_budget_exhausted"));
        } else if (cause instanceof BoundedBody.TimedOut) {
            refuseAndClose(ctx, admission, record, Outcome.REFUSED, OpenAiError.invalidRequest(408, "The request "
                    + "body did not arrive within " + config.limits().bodyReadTimeout().toMillis() + " ms. Send it "
                    + "without pausing.", null, "request_timeout"));
        } else {
            LOG.debugf("Request %s: body could not be read (%s)", admission.requestId(), cause.toString());
            ctx.response().close();
            describe(record, admission, endpoint, false);
            telemetry.close(record, Outcome.CANCELLED, 499, "client_cancelled");
        }
    }

    /**
     * Whose share of the body budget a request body counts against: its client key, or where keys are off (every
     * client is "anonymous") its client address.
     */
    private String budgetHolder(HttpServerRequest request, PolicyContext admission) {
        if (KeyLoader.required(config.auth())) {
            return "key:" + admission.keyId();
        }
        return request.remoteAddress() == null ? "address:unknown" : "address:" + request.remoteAddress().hostAddress();
    }

    /**
     * As {@link #refuseAndClose}, for a client that may still be sending a body the gateway will not read: what it
     * sends is discarded (never kept) for a moment, so that it gets to read the refusal instead of a broken pipe.
     */
    private void refuseAndLinger(RoutingContext ctx, PolicyContext admission, RequestRecord record, Outcome outcome,
                                 OpenAiError error) {
        HttpServerRequest request = ctx.request();
        if (!request.isEnded()) {
            Vertx vertx = Vertx.currentContext().owner();
            long timer = vertx.setTimer(LINGER_MS, id -> request.connection().close());
            request.handler(discarded -> {
            });
            request.endHandler(v -> {
                vertx.cancelTimer(timer);
                request.connection().close();
            });
            request.resume();
            sendRefusal(ctx, admission, record, outcome, error, false);
            return;
        }
        refuseAndClose(ctx, admission, record, outcome, error);
    }

    private void refuseAndClose(RoutingContext ctx, PolicyContext admission, RequestRecord record, Outcome outcome,
                                OpenAiError error) {
        sendRefusal(ctx, admission, record, outcome, error, true);
    }

    private void sendRefusal(RoutingContext ctx, PolicyContext admission, RequestRecord record, Outcome outcome,
                             OpenAiError error, boolean closeWhenWritten) {
        HttpServerResponse response = ctx.response();
        if (!response.ended() && !response.closed()) {
            response.putHeader("connection", "close");
            new ClientChannel(response, admission.requestId()).sendError(error, GatewayHeaders.PROVIDER_NONE, 0, 0)
                    .onComplete(written -> {
                        if (closeWhenWritten) {
                            ctx.request().connection().close();
                        }
                    });
        }
        describe(record, admission, admission.endpoint(), false);
        telemetry.close(record, outcome, error.status(), error.code());
    }

    private void admitted(RoutingContext ctx, PolicyContext admission, RequestRecord record, Endpoint endpoint,
                          AsyncResult<ProxyRequest> admitted) {
        if (admitted.failed()) {
            Refusal refusal = PolicyChain.asRefusal(admission.requestId(), admitted.cause());
            // A limit that lifts with time says when (OpenAI SDKs and Kilo Code honour Retry-After).
            refuse(ctx.response(), admission.requestId(), refusal.error(), refusal.retryAfterSeconds());
            describe(record, admission, admission.endpoint(), false);
            telemetry.close(record, Outcome.REFUSED, refusal.error().status(), refusal.error().code());
            return;
        }
        ProxyRequest proxied = admitted.result();
        record.whenClosed(() -> proxied.reservation().settle(record.usedTokens()));
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
        refuse(response, requestId, error, 1);
    }

    private static void refuse(HttpServerResponse response, String requestId, OpenAiError error,
                               long retryAfterSeconds) {
        if (response.ended() || response.closed()) {
            return;
        }
        new ClientChannel(response, requestId).sendError(error, GatewayHeaders.PROVIDER_NONE, 0, 0,
                retryAfterSeconds);
    }
}

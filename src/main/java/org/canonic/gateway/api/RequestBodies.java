package org.canonic.gateway.api;

import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.memory.BodyBudget;
import org.canonic.gateway.relay.OpenAiError;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Map;
import java.util.Optional;

/**
 * Request bodies outside the proxied endpoints (which read their own, {@link ProxyRoutes}):
 * <ul>
 *   <li>{@link #read}: a body read under a size cap, the body read clock ({@code gateway.limits.body-read-timeout})
 *       and the shared body budget, for routes that must have the whole body before a JAX-RS resource runs (the
 *       admin API);</li>
 *   <li>the server-wide cap ({@code quarkus.http.limits.max-body-size}): Quarkus refuses a longer declared body with
 *       an empty 413; this route, placed just before Quarkus' own, answers it in OpenAI's shape instead, whatever the
 *       path.</li>
 * </ul>
 */
@ApplicationScoped
public class RequestBodies {

    /** Just before Quarkus' own body size check ({@code RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT}, -2). */
    static final int ORDER = -3;

    @Inject
    GatewayConfig config;

    @Inject
    BodyBudget budget;

    @ConfigProperty(name = "quarkus.http.limits.max-body-size")
    Optional<MemorySize> serverLimit;

    void register(@Observes Router router) {
        serverLimit.ifPresent(limit -> router.route().order(ORDER).handler(ctx -> {
            long declared = declaredLength(ctx.request());
            if (declared > limit.asLongValue()) {
                EarlyRefusal.send(ctx, tooLarge(limit.asLongValue()), 0, Map.of());
                return;
            }
            ctx.next();
        }));
    }

    /** Whether the request carries a body (a positive length, or chunks). */
    public static boolean hasBody(HttpServerRequest request) {
        return declaredLength(request) > 0 || request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
    }

    /** The declared {@code Content-Length}, or -1 when there is none (or it is not a number). */
    public static long declaredLength(HttpServerRequest request) {
        String header = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (header == null) {
            return -1;
        }
        try {
            return Long.parseLong(header.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Reads the request's body whole, at most {@code limit} bytes, within the body read clock and the body budget
     * (its bytes are held in the budget until the request ends). Fails with what {@link #refusal} turns into an
     * answer, or with the connection's own failure.
     */
    public Future<Buffer> read(RoutingContext ctx, long limit) {
        BodyBudget.Lease lease = budget.lease();
        ctx.addEndHandler(ended -> lease.release());
        return BoundedBody.read(ctx.vertx(), ctx.request(), limit, budget, lease,
                config.limits().bodyReadTimeout().toMillis());
    }

    /** The answer to a body {@link #read} could not read, or empty for a client that failed or left. */
    public Optional<OpenAiError> refusal(Throwable cause, long limit) {
        if (cause instanceof BoundedBody.TooLarge) {
            return Optional.of(tooLarge(limit));
        }
        if (cause instanceof BoundedBody.OverBudget) {
            budget.refused(BodyBudget.Body.REQUEST);
            return Optional.of(OpenAiError.server(503, "The gateway holds as many request and answer bytes as its "
                    + "memory budget allows. Retry shortly.", "body_budget_exhausted"));
        }
        if (cause instanceof BoundedBody.TimedOut) {
            return Optional.of(OpenAiError.invalidRequest(408, "The request body did not arrive within "
                    + config.limits().bodyReadTimeout().toMillis() + " ms. Send it without pausing.", null,
                    "request_timeout"));
        }
        return Optional.empty();
    }

    /** 413 in OpenAI's shape. */
    public static OpenAiError tooLarge(long limit) {
        return OpenAiError.invalidRequest(413, "The request body exceeds " + limit + " bytes.", null,
                "request_too_large");
    }
}

package org.canonic.gateway.ops;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.canonic.gateway.api.EarlyRefusal;
import org.canonic.gateway.api.RequestBodies;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.relay.OpenAiError;

import java.util.Map;
import java.util.Optional;

/**
 * The door of the admin API: every request whose path starts with {@code /admin}, whatever resource serves it (those
 * of today and any added later), passes here before any JAX-RS resource and before a byte of its body is read.
 * <ol>
 *   <li>The bearer token is checked from the headers alone ({@link AdminAuth#check}); a refusal (404 without a
 *       configured token, 401, 429) is answered at once and a body still coming is discarded, never buffered.</li>
 *   <li>The body of an authenticated request is read here, whole: at most {@code gateway.admin.max-body-size} (413
 *       beyond), within {@code gateway.limits.body-read-timeout} (408 when it trickles) and the body budget (503).
 *       The resource then gets it from the routing context, already read. A client that sent
 *       {@code Expect: 100-continue} is told to go on only once its token and declared length passed.</li>
 * </ol>
 * A Vert.x route rather than a JAX-RS filter, because a route runs before RESTEasy has touched the body. RESTEasy
 * reads a body handed over this way for blocking resource methods only (the default for methods returning
 * {@code Response}): admin resources stay blocking ({@code AdminResourcesBlockingTest} checks). The path is
 * the router's normalised one, the same RESTEasy matches resources against, and it is compared ignoring case, so no
 * spelling of an admin path gets past the door.
 */
@ApplicationScoped
public class AdminGate {

    /** After the connection guard, the request id and CORS, before every body size check and every resource. */
    static final int ORDER = -500;

    private static final String PREFIX = "/admin";

    @Inject
    AdminAuth auth;

    @Inject
    RequestBodies bodies;

    @Inject
    GatewayConfig config;

    void register(@Observes Router router) {
        router.route().order(ORDER).handler(this::handle);
    }

    /** Whether the (normalised) path belongs to the admin API. */
    static boolean isAdminPath(String path) {
        return path != null && path.length() >= PREFIX.length()
                && path.regionMatches(true, 0, PREFIX, 0, PREFIX.length());
    }

    private void handle(RoutingContext ctx) {
        if (!isAdminPath(ctx.normalizedPath())) {
            ctx.next();
            return;
        }
        HttpServerRequest request = ctx.request();
        SocketAddress remote = request.remoteAddress();
        Optional<AdminAuth.Denial> denial = auth.check(request.getHeader(HttpHeaders.AUTHORIZATION),
                remote == null ? null : remote.hostAddress());
        if (denial.isPresent()) {
            OpenAiError error = denial.get().error();
            EarlyRefusal.send(ctx, error, denial.get().retryAfterSeconds(),
                    error.status() == 401 ? Map.of("WWW-Authenticate", "Bearer") : Map.of());
            return;
        }
        if (!RequestBodies.hasBody(request) || request.isEnded()) {
            ctx.next();
            return;
        }
        long limit = config.admin().maxBodySize().asLongValue();
        if (RequestBodies.declaredLength(request) > limit) {
            EarlyRefusal.send(ctx, RequestBodies.tooLarge(limit), 0, Map.of());
            return;
        }
        if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
            // Asked for only now: a client that waits for it never sends a body that would be refused.
            request.response().writeContinue();
        }
        bodies.read(ctx, limit).onComplete(read -> {
            if (read.succeeded()) {
                ctx.setBody(read.result());
                ctx.next();
                return;
            }
            Optional<OpenAiError> refusal = bodies.refusal(read.cause(), limit);
            if (refusal.isPresent()) {
                EarlyRefusal.send(ctx, refusal.get(), refusal.get().status() == 503 ? 1 : 0, Map.of());
            } else {
                request.connection().close();
            }
        });
    }
}

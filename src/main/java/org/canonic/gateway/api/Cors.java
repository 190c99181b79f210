package org.canonic.gateway.api;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.relay.GatewayHeaders;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * CORS for browser front ends, per exact origin ({@code GATEWAY_CORS_ORIGINS}); off when none is configured.
 *
 * <p>Only a listed origin gets CORS headers, its own origin echoed (never {@code *}), and never
 * {@code Access-Control-Allow-Credentials}: clients authenticate with an {@code Authorization} header, which needs no
 * cookies, so a page of another origin cannot ride on a user's credentials. A request from any other origin passes
 * through untouched, so the browser's same-origin rule stops it.
 */
@ApplicationScoped
public class Cors {

    static final String ALLOWED_METHODS = "GET, POST, OPTIONS";
    static final String ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-Id";
    /** What a page's script may read of an answer besides the simple headers. */
    static final String EXPOSED_HEADERS = String.join(", ", GatewayHeaders.REQUEST_ID, GatewayHeaders.PROVIDER,
            GatewayHeaders.ATTEMPTS, GatewayHeaders.ELAPSED_MS, GatewayHeaders.MAX_TOKENS, "Retry-After");
    /** Browsers cache a preflight this long (seconds); they cap it themselves (Chrome at 2 h). */
    static final String MAX_AGE = "600";

    @Inject
    GatewayConfig config;

    void register(@Observes Router router) {
        Set<String> origins = config.cors().origins().orElse(List.of()).stream().map(String::strip)
                .filter(o -> !o.isEmpty()).map(Cors::normalize).collect(Collectors.toUnmodifiableSet());
        if (origins.isEmpty()) {
            return;
        }
        // Before every other route: a preflight must be answered before the endpoints see it (they would 405 it).
        router.route().order(-1000).handler(ctx -> handle(ctx, origins));
    }

    private static void handle(RoutingContext ctx, Set<String> origins) {
        String origin = ctx.request().getHeader("origin");
        if (origin == null || !origins.contains(normalize(origin))) {
            ctx.next();
            return;
        }
        HttpServerResponse response = ctx.response();
        response.putHeader("access-control-allow-origin", origin);
        response.putHeader("vary", "Origin");
        if (ctx.request().method() == HttpMethod.OPTIONS
                && ctx.request().getHeader("access-control-request-method") != null) {
            response.putHeader("access-control-allow-methods", ALLOWED_METHODS);
            response.putHeader("access-control-allow-headers", ALLOWED_HEADERS);
            response.putHeader("access-control-max-age", MAX_AGE);
            response.setStatusCode(204).end();
            return;
        }
        response.putHeader("access-control-expose-headers", EXPOSED_HEADERS);
        ctx.next();
    }

    /** Origins compare without a trailing slash and case-insensitively in scheme and host. */
    private static String normalize(String origin) {
        String o = origin.strip();
        return (o.endsWith("/") ? o.substring(0, o.length() - 1) : o).toLowerCase(java.util.Locale.ROOT);
    }
}

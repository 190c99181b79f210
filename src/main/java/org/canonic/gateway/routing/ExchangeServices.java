package org.canonic.gateway.routing;

import io.vertx.core.Vertx;
import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.memory.BodyBudget;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.telemetry.Telemetry;

/**
 * What every exchange shares: the event loops, the JSON mapper, telemetry and the relay settings. Everything about a
 * backend (its pool, slots, breaker, health) is the backend's own, reached through the request's candidates.
 *
 * @param telemetry           where every request's record ends up
 * @param responseInfo        whether non-stream answers get the {@code gateway} object
 * @param keepAliveMs         silence after which a stream gets a {@code : keep-alive} comment
 * @param maxUpstreamBody     largest non-stream or error body buffered from a backend
 * @param concurrencyWaitMs   how long to wait for a slot on a full backend before moving on
 * @param retryAfterSeconds   the {@code Retry-After} hint when nothing is routable (about one probe interval)
 * @param clientStallMs       how long a stream's client may read nothing before it loses its slot and upstream
 * @param bodyBudget          the bytes all bodies may hold together; non-stream answers are collected under it
 * @param nonStreamTotalMs    bound on a whole non-stream request, all tries included (0: none)
 * @param routing             hedging and the prompt-sized first-token clock
 */
public record ExchangeServices(Vertx vertx, RequestJson json, Telemetry telemetry, boolean responseInfo,
                               long keepAliveMs, long maxUpstreamBody, long concurrencyWaitMs, long retryAfterSeconds,
                               long clientStallMs, BodyBudget bodyBudget, long nonStreamTotalMs,
                               RoutingConfig.Routing routing) {
}

package org.canonic.gateway.routing;

import io.vertx.core.Vertx;
import org.canonic.gateway.backend.BackendClients;
import org.canonic.gateway.memory.BodyBudget;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.telemetry.Telemetry;

/**
 * What every exchange shares: the event loops, upstream clients, health, breakers, slots and the relay settings.
 *
 * @param telemetry           where every request's record ends up
 * @param responseInfo        whether non-stream answers get the {@code gateway} object
 * @param keepAliveMs         silence after which a stream gets a {@code : keep-alive} comment
 * @param maxUpstreamBody     largest non-stream or error body buffered from a backend
 * @param concurrencyWaitMs   how long to wait for a slot on a full backend before moving on
 * @param retryAfterSeconds   the {@code Retry-After} hint when nothing is routable (about one probe interval)
 * @param bodyBudget          the bytes all bodies may hold together; non-stream answers are collected under it
 */
public record ExchangeServices(Vertx vertx, BackendClients clients, RequestJson json,
                               BackendAvailability availability, AttemptObserver observer, ConcurrencyLimits limits,
                               Telemetry telemetry, boolean responseInfo, long keepAliveMs, long maxUpstreamBody,
                               long concurrencyWaitMs, long retryAfterSeconds, BodyBudget bodyBudget) {
}

package org.canonic.gateway.fleet;

import io.vertx.core.Vertx;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.telemetry.GatewayMetrics;

/**
 * What every live backend is built with.
 *
 * @param health  probe schedule and hysteresis
 * @param breaker circuit breaker settings
 * @param metrics where its gauges are registered (and removed again when it closes)
 * @param events  where its state changes are reported
 * @param concurrency the adaptive in-flight limit of backends without an explicit maximum
 */
public record FleetServices(Vertx vertx, GatewayConfig.Health health, GatewayConfig.Breaker breaker,
                            GatewayMetrics metrics, FleetEvents events, GatewayConfig.AdaptiveConcurrency concurrency) {
}

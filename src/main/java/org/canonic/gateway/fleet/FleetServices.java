package org.canonic.gateway.fleet;

import io.vertx.core.Vertx;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.OperationsConfig;
import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.telemetry.GatewayMetrics;

import java.util.function.IntUnaryOperator;

/**
 * What every live backend is built with.
 *
 * @param health  probe schedule and hysteresis
 * @param breaker circuit breaker settings
 * @param metrics where its gauges are registered (and removed again when it closes)
 * @param events  where its state changes are reported
 * @param concurrency the adaptive in-flight limit of backends without an explicit maximum
 * @param routing how load signals are read and what prefill rate is assumed before a backend's own samples
 * @param replicaShare this replica's part of a limit that holds across all replicas sharing a state store
 *                     (identity for one replica): a backend's explicit maximum and its adaptive ceiling are split
 *                     with it, so N replicas never admit N times a backend's limit
 */
public record FleetServices(Vertx vertx, OperationsConfig.Health health, OperationsConfig.Breaker breaker,
                            GatewayMetrics metrics, FleetEvents events, GatewayConfig.AdaptiveConcurrency concurrency,
                            RoutingConfig.Routing routing, IntUnaryOperator replicaShare) {

    /** One replica: every limit is this replica's alone. */
    public FleetServices(Vertx vertx, OperationsConfig.Health health, OperationsConfig.Breaker breaker,
                         GatewayMetrics metrics, FleetEvents events, GatewayConfig.AdaptiveConcurrency concurrency,
                         RoutingConfig.Routing routing) {
        this(vertx, health, breaker, metrics, events, concurrency, routing, IntUnaryOperator.identity());
    }
}

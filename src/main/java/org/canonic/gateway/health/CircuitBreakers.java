package org.canonic.gateway.health;

import io.smallrye.faulttolerance.api.CircuitBreakerMaintenance;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.enterprise.util.TypeLiteral;
import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.routing.AttemptObserver;

import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One named SmallRye Fault Tolerance circuit breaker per backend ({@code backend-<name>}), fed by real traffic.
 *
 * <p>SmallRye guards {@code CompletionStage}s, not streams, so the guarded action here is the whole attempt: a
 * stage that completes when the attempt ends, however long its stream ran. That is how faults after the first token
 * reach the breaker. Backend faults complete it exceptionally (and count); everything else, request faults and
 * client cancellations included, completes it normally (and never counts against the backend). The breaker is the
 * only strategy in this guard: retries and fallback are the attempt loop's, which must stop at the commit point.
 */
public final class CircuitBreakers implements AttemptObserver {

    private static final TypeLiteral<CompletionStage<Void>> ATTEMPT = new TypeLiteral<>() {
    };

    /** The exception a backend fault completes an attempt with; the only one the breakers count. */
    static final class BackendFault extends RuntimeException {
        BackendFault(AttemptOutcome outcome) {
            super(outcome.description(), null, false, false);
        }
    }

    private final Map<String, Guard> guards = new HashMap<>();
    private final HealthRegistry health;

    public CircuitBreakers(HealthRegistry health, GatewayConfig.Breaker config) {
        this.health = health;
        for (BackendHealth backend : health.all()) {
            String name = backend.backend().name();
            String breakerName = "backend-" + name;
            guards.put(name, Guard.create()
                    .withDescription("attempts on backend " + name)
                    .withCircuitBreaker()
                    .name(breakerName)
                    .requestVolumeThreshold(config.requestVolumeThreshold())
                    .failureRatio(config.failureRatio())
                    .delay(config.delay().toMillis(), ChronoUnit.MILLIS)
                    .successThreshold(config.successThreshold())
                    .failOn(BackendFault.class)
                    .onStateChange(backend::onBreakerState)
                    .done()
                    .withThreadOffload(false)
                    .build());
            CircuitBreakerMaintenance maintenance = CircuitBreakerMaintenance.get();
            backend.attachBreaker(() -> maintenance.currentState(breakerName));
        }
    }

    @Override
    public Handle started(Backend backend) {
        CompletableFuture<Void> attempt = new CompletableFuture<>();
        CompletionStage<Void> guarded = guards.get(backend.name()).get(() -> attempt, ATTEMPT);
        if (guarded.toCompletableFuture().isCompletedExceptionally()) {
            // The breaker refused before the action ran: open (or its half-open trial is taken).
            return Handle.REJECTED;
        }
        BackendHealth backendHealth = health.of(backend);
        return outcome -> {
            if (outcome.isBackendFault()) {
                backendHealth.onFault(outcome.name());
                attempt.completeExceptionally(new BackendFault(outcome));
            } else {
                attempt.complete(null);
            }
        };
    }
}

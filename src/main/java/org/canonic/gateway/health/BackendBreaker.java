package org.canonic.gateway.health;

import io.smallrye.faulttolerance.api.CircuitBreakerMaintenance;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.enterprise.util.TypeLiteral;
import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.config.OperationsConfig;

import java.time.temporal.ChronoUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The SmallRye Fault Tolerance circuit breaker of one backend, fed by real traffic.
 *
 * <p>SmallRye guards {@code CompletionStage}s, not streams, so the guarded action here is the whole attempt: a
 * stage that completes when the attempt ends, however long its stream ran. That is how faults after the first token
 * reach the breaker. Backend faults complete it exceptionally (and count); everything else, request faults and
 * client cancellations included, completes it normally (and never counts against the backend). The breaker is the
 * only strategy in this guard: retries and fallback are the attempt loop's, which must stop at the commit point.
 *
 * <p>Each breaker gets a name that is unique for the process ({@code backend-<name>-<n>}): a backend deregistered
 * and registered again under the same name starts with a fresh breaker, and operators can still reset every breaker
 * at once through {@link CircuitBreakerMaintenance}.
 */
public final class BackendBreaker {

    private static final TypeLiteral<CompletionStage<Void>> ATTEMPT = new TypeLiteral<>() {
    };
    private static final AtomicLong GENERATION = new AtomicLong();

    /** The exception a backend fault completes an attempt with; the only one the breaker counts. */
    static final class BackendFault extends RuntimeException {
        BackendFault(AttemptOutcome outcome) {
            super(outcome.description(), null, false, false);
        }
    }

    /** One attempt as the breaker sees it. */
    public interface Handle {
        /** Whether the breaker refused the attempt (open, or its half-open trial already taken). */
        boolean rejected();

        /** Reports how the attempt ended; backend faults count against the backend, nothing else does. */
        void ended(AttemptOutcome outcome);
    }

    private static final Handle REJECTED = new Handle() {
        @Override
        public boolean rejected() {
            return true;
        }

        @Override
        public void ended(AttemptOutcome outcome) {
        }
    };

    private final BackendHealth health;
    private final OperationsConfig.Breaker config;
    private volatile Guard guard;

    public BackendBreaker(BackendHealth health, OperationsConfig.Breaker config) {
        this.health = health;
        this.config = config;
    }

    /**
     * The guard, built on first use: a backend that never took a request needs none (and unit tests that never
     * send one need no fault-tolerance runtime). Until then the breaker is, truthfully, closed.
     */
    private Guard guard() {
        Guard built = guard;
        if (built != null) {
            return built;
        }
        synchronized (this) {
            if (guard == null) {
                guard = build();
            }
            return guard;
        }
    }

    private Guard build() {
        String backend = health.backend().name();
        String breakerName = "backend-" + backend + "-" + GENERATION.incrementAndGet();
        Guard built = Guard.create()
                .withDescription("attempts on backend " + backend)
                .withCircuitBreaker()
                .name(breakerName)
                .requestVolumeThreshold(config.requestVolumeThreshold())
                .failureRatio(config.failureRatio())
                .delay(config.delay().toMillis(), ChronoUnit.MILLIS)
                .successThreshold(config.successThreshold())
                .failOn(BackendFault.class)
                .onStateChange(health::onBreakerState)
                .done()
                .withThreadOffload(false)
                .build();
        CircuitBreakerMaintenance maintenance = CircuitBreakerMaintenance.get();
        health.attachBreaker(() -> maintenance.currentState(breakerName));
        return built;
    }

    public CircuitBreakerState state() {
        return health.breakerState();
    }

    /** Opens an attempt under the breaker; check {@link Handle#rejected()} before sending anything. */
    public Handle started() {
        CompletableFuture<Void> attempt = new CompletableFuture<>();
        CompletionStage<Void> guarded = guard().get(() -> attempt, ATTEMPT);
        if (guarded.toCompletableFuture().isCompletedExceptionally()) {
            return REJECTED;
        }
        return new Handle() {
            @Override
            public boolean rejected() {
                return false;
            }

            @Override
            public void ended(AttemptOutcome outcome) {
                if (outcome.isBackendFault()) {
                    health.onFault(outcome.name());
                    attempt.completeExceptionally(new BackendFault(outcome));
                } else {
                    if (outcome == AttemptOutcome.COMPLETED) {
                        health.onTrafficSuccess();
                    }
                    attempt.complete(null);
                }
            }
        };
    }
}

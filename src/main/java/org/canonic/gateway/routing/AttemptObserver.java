package org.canonic.gateway.routing;

import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.Backend;

/**
 * Told about every attempt from its start to its end, including faults after the first token: how the circuit
 * breakers (and telemetry) learn from real traffic without routing depending on them.
 */
public interface AttemptObserver {

    /**
     * An attempt on {@code backend} is about to start; the returned handle is told how it ended, exactly once. A
     * {@link Handle#rejected() rejected} handle means the attempt must not be made (an open circuit breaker).
     */
    Handle started(Backend backend);

    interface Handle {
        void ended(AttemptOutcome outcome);

        default boolean rejected() {
            return false;
        }

        /** The attempt may not be made. */
        Handle REJECTED = new Handle() {
            @Override
            public void ended(AttemptOutcome outcome) {
            }

            @Override
            public boolean rejected() {
                return true;
            }
        };
    }
}

package org.canonic.gateway.capacity;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The wake-on-demand tests' profile (the {@code %wake.} settings of {@link org.canonic.gateway.testing.FakeBackends}):
 * route {@code cold} with no backend and no fallback, recipe {@code cold} for it, a default time to ready of 300 s
 * and a state directory of its own.
 */
public class WakeProfile implements QuarkusTestProfile {

    public static final long DEFAULT_TIME_TO_READY_S = 300;

    @Override
    public String getConfigProfile() {
        return "wake";
    }
}

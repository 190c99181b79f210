package org.canonic.gateway.health;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Fast probes, a sensitive breaker and one-slot backends, for the health tests: the {@code %health.} settings of
 * {@link org.canonic.gateway.testing.FakeBackends}. A config profile of its own, so that the behaviour tests keep a
 * breaker that never trips. (Profile-prefixed keys win over the resource's plain ones whatever their source.)
 */
public class HealthProfile implements QuarkusTestProfile {

    public static final int FAILURES_TO_DOWN = 2;
    public static final int SUCCESSES_TO_UP = 2;
    public static final long BREAKER_DELAY_MS = 1500;

    @Override
    public String getConfigProfile() {
        return "health";
    }
}

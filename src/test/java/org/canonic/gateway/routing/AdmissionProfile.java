package org.canonic.gateway.routing;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * Adaptive backend limits kept tiny (start at 2, never below 1 or above 2) and a short bound on the wait for a slot,
 * so that queueing, shrinking, spilling and the bound show within a test.
 */
public class AdmissionProfile implements QuarkusTestProfile {

    public static final int LIMIT = 2;
    public static final long WAIT_MS = 1500;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "gateway.defaults.adaptive-concurrency.initial-limit", Integer.toString(LIMIT),
                "gateway.defaults.adaptive-concurrency.min-limit", "1",
                "gateway.defaults.adaptive-concurrency.max-limit", Integer.toString(LIMIT),
                "gateway.defaults.concurrency-wait", WAIT_MS + "ms");
    }
}

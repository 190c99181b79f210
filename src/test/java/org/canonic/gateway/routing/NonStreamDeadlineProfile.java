package org.canonic.gateway.routing;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * A non-stream bound (1.2 s) shorter than the tries it cuts short (2 × 1.5 s on alpha, then omega), a breaker as
 * sensitive as the health tests' (4 attempts, half of them faults, open for a minute) and two client keys: a bound
 * that counted against backends would open their breakers within one burst.
 */
public class NonStreamDeadlineProfile implements QuarkusTestProfile {

    static final long NON_STREAM_TOTAL_MS = 1200;
    public static final String BURST_KEY = "gw-test-key-burst-11aa22bb33cc";
    public static final String OTHER_KEY = "gw-test-key-other-44dd55ee66ff";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("gateway.defaults.clocks.non-stream-total", NON_STREAM_TOTAL_MS + "ms");
    }

    /** The breaker and keys are {@code %nonstream.} settings: the test resource's plain ones win over overrides. */
    @Override
    public String getConfigProfile() {
        return "nonstream";
    }

    /** The settings {@link org.canonic.gateway.testing.FakeBackends} gives this profile. */
    public static Map<String, String> settings() {
        return Map.of("gateway.breaker.request-volume-threshold", "4",
                "gateway.breaker.failure-ratio", "0.5",
                "gateway.breaker.delay", "60s",
                "gateway.auth.mode", "keys",
                "gateway.auth.keys", "burst:" + BURST_KEY + ",other:" + OTHER_KEY);
    }
}

package org.canonic.gateway.routing;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** A non-stream bound (1.2 s) shorter than the tries it cuts short (2 × 1.5 s on alpha, then omega). */
public class NonStreamDeadlineProfile implements QuarkusTestProfile {

    static final long NON_STREAM_TOTAL_MS = 1200;

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("gateway.defaults.clocks.non-stream-total", NON_STREAM_TOTAL_MS + "ms");
    }
}

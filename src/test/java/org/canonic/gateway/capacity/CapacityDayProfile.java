package org.canonic.gateway.capacity;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * The gateway of the compressed day ({@link CapacityDayTest}): route {@code simday} with no static backend (the
 * capacity controller's instances join it), least-loaded, no hedging and no global fallback (a request with no
 * backend must be refused, not answered elsewhere: {@code %simday.gateway.fallback} in {@code FakeBackends}, whose
 * own settings outrank these); vLLM's {@code /metrics} read every 25 ms and health probed every
 * 50 ms, because a simulated minute passes in tens of milliseconds; request clocks long enough for requests held
 * across many simulated minutes; a fixed concurrency limit far above what a replica holds (the adaptive limit learns
 * from real-time first tokens, which here measure the simulation's pace, not the replica).
 */
public class CapacityDayProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.ofEntries(
                Map.entry("gateway.routes.simday.models", "simday"),
                Map.entry("gateway.routes.simday.policy", "least-loaded"),
                Map.entry("gateway.routes.simday.hedging.enabled", "false"),
                Map.entry("gateway.routing.load-signals.interval", "25ms"),
                Map.entry("gateway.routing.load-signals.timeout", "500ms"),
                Map.entry("gateway.health.interval", "50ms"),
                Map.entry("gateway.defaults.clocks.first-token", "120s"),
                Map.entry("gateway.defaults.clocks.idle", "120s"),
                Map.entry("gateway.defaults.clocks.total", "300s"),
                Map.entry("gateway.routing.first-token-deadline.base", "120s"),
                Map.entry("gateway.defaults.adaptive-concurrency.initial-limit", "512"),
                Map.entry("gateway.defaults.adaptive-concurrency.min-limit", "512"),
                Map.entry("gateway.defaults.adaptive-concurrency.max-limit", "1024"));
    }

    @Override
    public String getConfigProfile() {
        return "simday";
    }
}

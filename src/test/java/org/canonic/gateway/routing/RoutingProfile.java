package org.canonic.gateway.routing;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * Three replicas of one model ({@code r1}..{@code r3}, one slot each: the {@code %routing.} settings of
 * {@link org.canonic.gateway.testing.FakeBackends}) behind routes {@code spread}, {@code budget} and {@code steady},
 * with the default policy (cache-aware), load signals read every 100 ms, hedges after 300 ms at the least, and a
 * first-token clock of 1 s plus what the prompt's prefill needs.
 */
public class RoutingProfile implements QuarkusTestProfile {

    public static final long HEDGE_AFTER_MS = 300;
    public static final long FIRST_TOKEN_BASE_MS = 1000;
    /** Route budget's share of hedges; route spread may hedge every request, route steady none. */
    public static final double BUDGET_SHARE = 0.2;

    public static Map<String, String> settings() {
        return Map.of(
                "gateway.routing.load-signals.interval", "100ms",
                "gateway.routing.load-signals.timeout", "200ms",
                "gateway.routing.hedging.min-delay", HEDGE_AFTER_MS + "ms",
                "gateway.routes.spread.hedging.max-share", "1.0",
                "gateway.routes.budget.hedging.max-share", Double.toString(BUDGET_SHARE),
                "gateway.routes.steady.hedging.enabled", "false",
                "gateway.routing.first-token-deadline.base", FIRST_TOKEN_BASE_MS + "ms",
                "gateway.defaults.clocks.first-token", "10s",
                "gateway.defaults.concurrency-wait", "2s");
    }

    @Override
    public String getConfigProfile() {
        return "routing";
    }
}

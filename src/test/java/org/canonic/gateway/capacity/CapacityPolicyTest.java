package org.canonic.gateway.capacity;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A configured policy out of range stops the boot, every problem named with its configuration key. */
class CapacityPolicyTest {

    private static final Set<String> PROVIDERS = Set.of("vastai", "runpod");
    private static final Set<String> RECIPES = Set.of("main");

    @Test
    void theDefaultsAreValid() {
        assertEquals(List.of(), CapacityPolicy.defaults("main").problems("gateway.capacity.policies.main",
                PROVIDERS, RECIPES, 720));
    }

    @Test
    void everyValueOutOfRangeIsNamedWithItsKey() {
        CapacityPolicy bad = new CapacityPolicy("other", 5, 0, List.of("aws", "aws"), null, -1.0, 0.0, 0,
                Duration.ofSeconds(-1), -1, Duration.ZERO, Duration.ofDays(2), Duration.ZERO, null, null, 1000,
                Duration.ZERO);
        List<String> problems = bad.problems("gateway.capacity.policies.other", PROVIDERS, RECIPES, 720);
        String all = String.join("\n", problems);
        for (String key : List.of("recipe 'other' is not configured", ".max-instances", ".min-instances",
                ".providers", ".min-vram-gb", ".max-usd-per-hour", ".scale-out-waiting-per-instance",
                ".scale-in-open-per-instance", ".scale-out-window", ".scale-in-window", ".scale-out-cooldown",
                ".drain-deadline", ".planned-hours", ".scale-in-action", ".scale-in-order")) {
            assertTrue(all.contains(key), key + " in " + all);
        }
        assertTrue(problems.stream().filter(p -> !p.contains("recipe 'other'"))
                .allMatch(p -> p.startsWith("gateway.capacity.policies.other.")), all);
    }
}

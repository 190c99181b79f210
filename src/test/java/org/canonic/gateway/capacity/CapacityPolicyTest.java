package org.canonic.gateway.capacity;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
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

    @Test
    void theScaleOutStepIsReadCheckedAndShown() {
        List<String> problems = new ArrayList<>();
        CapacityPolicy read = CapacityPolicy.of("main", config("gateway.capacity.policies.main.min-instances", "0")
                .policies().get("main"), problems);
        assertEquals(CapacityPolicy.DEFAULT_MAX_SCALE_OUT_STEP, read.maxScaleOutStep(), "4 unless configured");
        assertEquals(4, read.view().path("max_scale_out_step").asInt());
        CapacityPolicy zero = CapacityPolicy.of("main", config("gateway.capacity.policies.main.max-scale-out-step",
                "0").policies().get("main"), problems);
        assertTrue(String.join("\n", zero.problems("gateway.capacity.policies.main", PROVIDERS, RECIPES, 720))
                .contains("gateway.capacity.policies.main.max-scale-out-step must lie between 1 and 64, got 0"));
        CapacityPolicy put = CapacityPolicy.parse("main", com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                .objectNode().put("max_scale_out_step", 65), read);
        assertTrue(put.problems(null, PROVIDERS, RECIPES, 720).get(0).startsWith("max_scale_out_step must lie"));
        assertEquals(2, CapacityPolicy.parse("main", com.fasterxml.jackson.databind.node.JsonNodeFactory.instance
                .objectNode().put("max_scale_out_step", 2), read).maxScaleOutStep());
    }

    private static CapacityConfig config(String... keyValues) {
        Map<String, String> properties = new HashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            properties.put(keyValues[i], keyValues[i + 1]);
        }
        return new SmallRyeConfigBuilder().addDefaultInterceptors()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(CapacityConfig.class).build().getConfigMapping(CapacityConfig.class);
    }

    @Test
    void configuredWindowsAreReadAndWhatIsWrongIsNamedWithItsKey() {
        String w = "gateway.capacity.policies.main.windows";
        CapacityConfig good = config("gateway.capacity.policies.main.max-instances", "2",
                w + "[0].days", "mon-fri", w + "[0].from", "08:00", w + "[0].to", "18:00",
                w + "[0].zone", "Europe/Berlin", w + "[0].min-instances", "2",
                w + "[1].days", "sat", w + "[1].from", "22:00", w + "[1].to", "02:00", w + "[1].zone", "UTC",
                w + "[1].min-instances", "1");
        List<String> problems = new ArrayList<>();
        CapacityPolicy policy = CapacityPolicy.of("main", good.policies().get("main"), problems);
        assertEquals(List.of(), problems);
        assertEquals(2, policy.windows().size());
        assertTrue(policy.windows().get(1).crossesMidnight());
        assertTrue(policy.windows().get(0).inForce(Instant.parse("2026-12-07T07:00:00Z")).isPresent());
        assertEquals(List.of(), policy.problems("gateway.capacity.policies.main", PROVIDERS, RECIPES, 720));
        assertEquals(0, CapacityPolicy.of("main", config("gateway.capacity.policies.main.min-instances", "0")
                .policies().get("main"), problems).windows().size(), "no windows unless configured");
        assertEquals(java.time.Duration.ofMinutes(10), good.defaultTimeToReady());

        CapacityConfig bad = config(w + "[0].days", "mon-fri", w + "[0].from", "08:00", w + "[0].to", "18:00",
                w + "[0].zone", "CET+1", w + "[0].min-instances", "1",
                w + "[1].days", "mon", w + "[1].from", "08:00", w + "[1].zone", "UTC", w + "[1].min-instances", "1");
        CapacityPolicy read = CapacityPolicy.of("main", bad.policies().get("main"), problems);
        problems.addAll(read.problems("gateway.capacity.policies.main", PROVIDERS, RECIPES, 720));
        String all = String.join("\n", problems);
        assertEquals(2, problems.size(), all);
        assertTrue(all.contains(w + "[0].zone must be an IANA time zone name"), all);
        assertTrue(all.contains(w + "[1].to must be a time HH:MM"), all);
        problems.clear();
        CapacityPolicy tooMany = CapacityPolicy.of("main", config(w + "[0].days", "mon", w + "[0].from", "08:00",
                w + "[0].to", "09:00", w + "[0].zone", "UTC", w + "[0].min-instances", "3").policies().get("main"),
                problems);
        problems.addAll(tooMany.problems("gateway.capacity.policies.main", PROVIDERS, RECIPES, 720));
        assertEquals(List.of(w + "[0].min-instances must not exceed max-instances (1), got 3"), problems);
    }
}

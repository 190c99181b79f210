package org.canonic.gateway.schedule;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gateway.schedule.*} as SmallRye Config maps it: the documented defaults, and values out of range refused. */
class ScheduleSettingsTest {

    private static ScheduleConfig config(String... keyValues) {
        Map<String, String> properties = new HashMap<>();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            properties.put(keyValues[i], keyValues[i + 1]);
        }
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDefaultInterceptors()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(ScheduleConfig.class).build();
        return config.getConfigMapping(ScheduleConfig.class);
    }

    @Test
    void theDefaultsAreTheDocumentedOnes() {
        ScheduleSettings settings = ScheduleSettings.of(config(), Duration.ofSeconds(30));
        assertEquals(Duration.ofDays(7), settings.maxDuration());
        assertEquals(Duration.ofDays(90), settings.horizon());
        assertEquals(500, settings.maxEntries());
        assertEquals(Duration.ofSeconds(1), settings.tick());
        assertEquals(Duration.ofDays(7), settings.retention());
        assertEquals(Duration.ofMillis(250), ScheduleSettings.of(config("gateway.schedule.tick", "250"),
                Duration.ofSeconds(30)).tick(), "a bare number is milliseconds, as for the other clocks");
    }

    @Test
    void everyValueOutOfRangeIsNamedAtOnce() {
        InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class,
                () -> ScheduleSettings.of(config("gateway.schedule.max-duration", "0s", "gateway.schedule.horizon",
                        "-1s", "gateway.schedule.max-entries", "0", "gateway.schedule.tick", "10ms",
                        "gateway.schedule.retention", "-1h"), Duration.ofSeconds(30)));
        String message = String.join("\n", refused.problems());
        for (String key : new String[]{"max-duration", "horizon", "max-entries", "tick", "retention"}) {
            assertTrue(message.contains("gateway.schedule." + key), message);
        }
        assertEquals(5, refused.problems().size(), message);
        assertTrue(refused.getMessage().startsWith(InvalidConfigurationException.HEADLINE));
    }
}

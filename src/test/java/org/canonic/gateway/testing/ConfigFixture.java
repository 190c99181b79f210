package org.canonic.gateway.testing;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.canonic.gateway.config.GatewayConfig;

import java.util.HashMap;
import java.util.Map;

/** Builds a {@link GatewayConfig} from properties, exactly as SmallRye Config maps it at runtime. */
public final class ConfigFixture {

    private final Map<String, String> properties = new HashMap<>();

    public static ConfigFixture with(String... keyValues) {
        ConfigFixture fixture = new ConfigFixture();
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            fixture.properties.put(keyValues[i], keyValues[i + 1]);
        }
        return fixture;
    }

    public ConfigFixture and(String key, String value) {
        properties.put(key, value);
        return this;
    }

    public GatewayConfig build() {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .addDefaultInterceptors()
                .withConverter(io.quarkus.runtime.configuration.MemorySize.class, 100,
                        new io.quarkus.runtime.configuration.MemorySizeConverter())
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withMapping(GatewayConfig.class)
                .build();
        return config.getConfigMapping(GatewayConfig.class);
    }
}

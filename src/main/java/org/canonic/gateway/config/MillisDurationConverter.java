package org.canonic.gateway.config;

import io.quarkus.runtime.configuration.DurationConverter;
import org.eclipse.microprofile.config.spi.Converter;

import java.time.Duration;

/**
 * Reads a duration where a bare number means milliseconds ({@code 30000}), as the deployment variables
 * ({@code RUNPOD_TIMEOUT_MS}, {@code VASTAI_RETRY_DELAY_MS}, ...) already provide them; anything else is read
 * as a Quarkus duration ({@code 15s}, {@code 500ms}, {@code PT2M}).
 */
public final class MillisDurationConverter implements Converter<Duration> {

    @Override
    public Duration convert(String value) {
        String trimmed = value == null ? "" : value.trim();
        if (trimmed.isEmpty()) {
            return null;
        }
        if (trimmed.matches("-?\\d+")) {
            // Negative values are read too, so that validation can name them instead of a parse error.
            return Duration.ofMillis(Long.parseLong(trimmed));
        }
        return DurationConverter.parseDuration(trimmed);
    }
}

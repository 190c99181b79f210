package org.canonic.gateway.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;

/** The {@code gateway.limits.body-budget} setting: a share of the heap or a size, read into bytes. */
public final class BodyBudgetSetting {

    /** The default: a quarter of the heap leaves room for parsed trees, copies and everything else. */
    public static final String DEFAULT = "25%";

    private BodyBudgetSetting() {
    }

    /**
     * Reads the setting: a share of the largest heap the JVM may use ({@code 25%}) or a size ({@code 128M}).
     *
     * @throws IllegalArgumentException when it is neither, or not positive
     */
    public static long bytes(String setting, long maxHeapBytes) {
        String value = setting == null ? "" : setting.strip();
        if (value.endsWith("%")) {
            double percent;
            try {
                percent = Double.parseDouble(value.substring(0, value.length() - 1).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + setting + "' is not a percentage");
            }
            if (!(percent > 0 && percent <= 90)) {
                throw new IllegalArgumentException("'" + setting + "' must lie above 0% and at most 90% of the heap");
            }
            return (long) (maxHeapBytes * percent / 100);
        }
        MemorySize size;
        try {
            size = new MemorySizeConverter().convert(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("'" + setting + "' is neither a percentage of the heap nor a size");
        }
        if (size == null || size.asLongValue() <= 0) {
            throw new IllegalArgumentException("'" + setting + "' must be positive");
        }
        return size.asLongValue();
    }
}

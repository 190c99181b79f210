package org.canonic.gateway.schedule;

import org.canonic.gateway.config.InvalidConfigurationException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The schedule's settings, checked: what {@link ScheduleConfig} maps, as plain values the registry and its tests
 * share.
 *
 * @param drainDeadline how long requests in flight may run on a backend a maintenance window drains
 *                      ({@code gateway.drain-deadline}, as an admin drain without a deadline)
 */
public record ScheduleSettings(Duration maxDuration, Duration horizon, int maxEntries, Duration tick,
                               Duration retention, Duration drainDeadline) {

    public static final int MAX_ENTRIES_LIMIT = 100_000;

    /**
     * The settings of a configuration.
     *
     * @throws InvalidConfigurationException listing every value out of range
     */
    public static ScheduleSettings of(ScheduleConfig config, Duration drainDeadline) {
        ScheduleSettings settings = new ScheduleSettings(config.maxDuration(), config.horizon(), config.maxEntries(),
                config.tick(), config.retention(), drainDeadline);
        List<String> problems = settings.problems();
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return settings;
    }

    /** What is out of range, one message per setting (empty when all is well). */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (maxDuration == null || maxDuration.compareTo(Duration.ofSeconds(1)) < 0) {
            problems.add("gateway.schedule.max-duration must be at least 1s, got " + maxDuration);
        }
        if (horizon == null || horizon.compareTo(Duration.ofSeconds(1)) < 0) {
            problems.add("gateway.schedule.horizon must be at least 1s, got " + horizon);
        }
        if (maxEntries < 1 || maxEntries > MAX_ENTRIES_LIMIT) {
            problems.add("gateway.schedule.max-entries must lie between 1 and " + MAX_ENTRIES_LIMIT + ", got "
                    + maxEntries);
        }
        if (tick == null || tick.toMillis() < 100 || tick.compareTo(Duration.ofMinutes(1)) > 0) {
            problems.add("gateway.schedule.tick must lie between 100ms and 1m, got " + tick);
        }
        if (retention == null || retention.isNegative()) {
            problems.add("gateway.schedule.retention must not be negative, got " + retention);
        }
        if (drainDeadline == null || drainDeadline.isNegative() || drainDeadline.isZero()) {
            problems.add("gateway.drain-deadline must be positive, got " + drainDeadline);
        }
        return problems;
    }
}

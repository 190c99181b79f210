package org.canonic.gateway.schedule;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import org.canonic.gateway.config.MillisDurationConverter;

import java.time.Duration;

/**
 * The schedule registry ({@code gateway.schedule.*}): how far ahead and how long windows may be, how many may be
 * announced at once, how often the registry looks at the clock and how long it keeps ended entries. A mapping of its
 * own beside {@code GatewayConfig} (which is large enough), as {@code StateStoreConfig} is; checked at start by
 * {@link ScheduleSettings#of}, so a value out of range stops the boot with the gateway's configuration message.
 */
@ConfigMapping(prefix = "gateway.schedule")
public interface ScheduleConfig {

    /** The longest window an entry may announce ({@code ends_at - starts_at}); at least 1s. */
    @WithDefault("7d")
    @WithConverter(MillisDurationConverter.class)
    Duration maxDuration();

    /** How far ahead a window may start ({@code starts_at <= now + horizon}); at least 1s. */
    @WithDefault("90d")
    @WithConverter(MillisDurationConverter.class)
    Duration horizon();

    /** Planned and active entries held at once (ended ones not counted); 1 to 100000. */
    @WithDefault("500")
    int maxEntries();

    /**
     * How often windows are started and ended: a window starts (and a maintenance window drains its backend) at most
     * this long after its {@code starts_at}. Between 100ms and 1m.
     */
    @WithDefault("1s")
    @WithConverter(MillisDurationConverter.class)
    Duration tick();

    /** Ended entries stay listed this long after their {@code ends_at}, then are pruned; 0 prunes them at once. */
    @WithDefault("7d")
    @WithConverter(MillisDurationConverter.class)
    Duration retention();
}

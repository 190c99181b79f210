package org.canonic.gateway.capacity;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import org.canonic.gateway.config.MillisDurationConverter;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Capacity policies ({@code gateway.capacity.*}): one per compute recipe, keyed by the recipe's name. None is
 * configured by default, and without a policy nothing is ever launched or stopped automatically. Checked at start
 * by {@link CapacityPolicy#problems}, so a value out of range stops the boot with the gateway's configuration
 * message. A mapping of its own beside {@code GatewayConfig}, as {@code ScheduleConfig} is.
 */
@ConfigMapping(prefix = "gateway.capacity")
public interface CapacityConfig {

    /** How often the leader looks at the signals and decides; between 1s and 10m. */
    @WithDefault("15s")
    @WithConverter(MillisDurationConverter.class)
    Duration tick();

    /**
     * The expected time from a launch to serving, before any launch of the recipe on the provider was seen to become
     * ready (after that, the median of the last launches, {@code compute.ReadinessTimes}): what a request waking a route
     * at zero is told to wait ({@code Retry-After}) and what a scheduled window is launched ahead by. Between 0 and 2h.
     */
    @WithDefault("10m")
    @WithConverter(MillisDurationConverter.class)
    Duration defaultTimeToReady();

    /** The policies, by recipe name. */
    Map<String, Policy> policies();

    interface Policy {
        /** Instances kept whatever the demand (0 to max-instances). */
        @WithDefault("0")
        int minInstances();

        /** Never more instances than this (1 to 64). */
        @WithDefault("1")
        int maxInstances();

        /** Providers to launch on, tried in this order when the previous one has no offer meeting the constraints. */
        @WithDefault("vastai,runpod")
        List<String> providers();

        /** Offer constraint: the GPU name (e.g. {@code RTX 4090}); any GPU the recipe fits when absent. */
        Optional<String> gpu();

        /** Offer constraint: GPU memory in GB, at least. */
        Optional<Double> minVramGb();

        /** Offer constraint: the most an offer may cost per hour, in dollars. */
        Optional<Double> maxUsdPerHour();

        /** Scale out when the requests waiting per serving instance reach this, for the whole scale-out window. */
        @WithDefault("2")
        double scaleOutWaitingPerInstance();

        /**
         * What scale-out follows: {@code waiting_per_instance} (the target above) or {@code ttft_p90_ms} (the TTFT p90
         * of the recipe's instances at or above {@link #scaleOutTtftP90Ms}), held for the whole scale-out window.
         */
        @WithDefault("waiting_per_instance")
        String scaleOutSignal();

        /**
         * The most instances one scale-out decision launches (each through the cost guard): enough for the waiting
         * work beyond what serves and what is already launching, up to this and {@code max-instances}.
         */
        @WithDefault("4")
        int maxScaleOutStep();

        /** The TTFT p90 target in milliseconds, with {@code scale-out-signal=ttft_p90_ms}. */
        @WithDefault("2000")
        double scaleOutTtftP90Ms();

        @WithDefault("2m")
        @WithConverter(MillisDurationConverter.class)
        Duration scaleOutWindow();

        /** Scale in when the open requests per serving instance stay at or below this for the scale-in window. */
        @WithDefault("0")
        double scaleInOpenPerInstance();

        @WithDefault("15m")
        @WithConverter(MillisDurationConverter.class)
        Duration scaleInWindow();

        /** No scale-out this soon after the last scaling decision. */
        @WithDefault("5m")
        @WithConverter(MillisDurationConverter.class)
        Duration scaleOutCooldown();

        /** No scale-in this soon after the last scaling decision. */
        @WithDefault("10m")
        @WithConverter(MillisDurationConverter.class)
        Duration scaleInCooldown();

        /** {@code stop} (keeps the disk, still bills storage) or {@code destroy}. */
        @WithDefault("stop")
        String scaleInAction();

        /** Which instance goes first: {@code newest} or {@code most_expensive}. */
        @WithDefault("newest")
        String scaleInOrder();

        /** The hours an automatic launch is estimated (and reserved against the daily cap) for. */
        @WithDefault("4")
        double plannedHours();

        /** How long requests in flight on an instance being scaled in may run before it is stopped. */
        @WithDefault("5m")
        @WithConverter(MillisDurationConverter.class)
        Duration drainDeadline();

        /** Scheduled windows that raise min-instances ({@code windows[0].days=mon-fri}, ...). */
        Optional<List<Window>> windows();
    }

    /**
     * One scheduled window: {@code days} (mon-fri, sat,sun, daily), {@code from} and {@code to} (HH:MM wall-clock time;
     * a {@code to} not after {@code from} crosses midnight), {@code zone} (an IANA name), {@code min-instances}.
     * Optional here so that what is missing is named by the policy's check, with the others.
     */
    interface Window {
        Optional<String> days();

        Optional<String> from();

        Optional<String> to();

        Optional<String> zone();

        Optional<Integer> minInstances();
    }
}

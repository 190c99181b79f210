package org.canonic.gateway.capacity;

import java.time.Duration;

/**
 * How long a launch of a recipe on a provider is expected to take until the instance serves: what a scheduled window
 * is launched ahead by and what a request waking a route is told. In the gateway it is learned from past launches
 * ({@link CapacityController#timeToReady}, {@code gateway.capacity.default-time-to-ready} before any); tests fix it.
 */
@FunctionalInterface
public interface TimeToReady {

    Duration expected(String recipe, String provider);

    /** The same expectation for every recipe and provider. */
    static TimeToReady fixed(Duration expected) {
        return (recipe, provider) -> expected;
    }
}

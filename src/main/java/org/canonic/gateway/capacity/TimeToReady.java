package org.canonic.gateway.capacity;

import java.time.Duration;

/**
 * How long a launch of a recipe on a provider is expected to take until the instance serves: what a scheduled window
 * is launched ahead by. The seam for a value learned from past launches; until one is wired in, every recipe gets
 * {@code gateway.capacity.default-time-to-ready}.
 */
@FunctionalInterface
public interface TimeToReady {

    Duration expected(String recipe, String provider);

    /** The same expectation for every recipe and provider. */
    static TimeToReady fixed(Duration expected) {
        return (recipe, provider) -> expected;
    }
}

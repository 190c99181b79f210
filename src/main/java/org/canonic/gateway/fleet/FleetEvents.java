package org.canonic.gateway.fleet;

import java.util.Map;

/**
 * Where the fleet reports what happened to its backends (registered, changed, state changes, breaker, drain): the
 * webhooks. Publishing must never block and never fail: it is called from event loops and probe callbacks.
 */
@FunctionalInterface
public interface FleetEvents {

    FleetEvents NONE = (type, data) -> {
    };

    void publish(String type, Map<String, Object> data);
}

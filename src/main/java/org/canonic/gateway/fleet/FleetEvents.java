package org.canonic.gateway.fleet;

import java.util.LinkedHashMap;
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

    /** An event's data: the backend, the lock's fencing number when the change was made under the lock, more. */
    static Map<String, Object> data(String backend, Long fencing, Object... more) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("backend", backend);
        if (fencing != null) {
            data.put("lock_fencing", fencing);
        }
        for (int i = 0; i + 1 < more.length; i += 2) {
            data.put((String) more[i], more[i + 1]);
        }
        return data;
    }
}

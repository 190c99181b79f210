package org.canonic.gateway.routing;

import org.canonic.gateway.backend.Backend;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/** The in-flight slots of every backend, by name. */
public final class ConcurrencyLimits {

    private final Map<String, BackendSlots> slots = new HashMap<>();

    public ConcurrencyLimits(Collection<Backend> backends) {
        for (Backend backend : backends) {
            slots.put(backend.name(), new BackendSlots(backend.maxConcurrency()));
        }
    }

    public BackendSlots of(Backend backend) {
        return slots.get(backend.name());
    }
}

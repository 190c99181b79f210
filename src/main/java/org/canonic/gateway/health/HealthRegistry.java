package org.canonic.gateway.health;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.policy.BackendFacts;
import org.canonic.gateway.routing.BackendAvailability;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** The health of every backend, by name; what routing consults to pick candidates and policy to fit windows. */
public final class HealthRegistry implements BackendAvailability, BackendFacts {

    private final Map<String, BackendHealth> byName = new LinkedHashMap<>();

    public HealthRegistry(Collection<Backend> backends, GatewayConfig config) {
        for (Backend backend : backends) {
            byName.put(backend.name(), new BackendHealth(backend, config.health().failuresToDown(),
                    config.health().successesToUp(), config.breaker().delay().toMillis()));
        }
    }

    public BackendHealth of(Backend backend) {
        return byName.get(backend.name());
    }

    public Collection<BackendHealth> all() {
        return byName.values();
    }

    @Override
    public boolean routable(Backend backend) {
        return of(backend).routable();
    }

    @Override
    public int preference(Backend backend) {
        return of(backend).snapshot().state().preference();
    }

    @Override
    public String describe(Backend backend) {
        return of(backend).describe();
    }

    /** The window the backend itself reported on {@code /v1/models}, else the configured one. */
    @Override
    public int window(Backend backend) {
        int learned = of(backend).snapshot().maxModelLen();
        return learned > 0 ? learned : backend.contextWindow();
    }

    @Override
    public boolean reachable(Backend backend) {
        return routable(backend);
    }
}

package org.canonic.gateway.fleet;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.telemetry.GatewayMetrics;
import org.canonic.gateway.testing.ConfigFixture;

/** Live backends for unit tests: real owners (pool, slots, breaker, health), no probes, metrics in memory. */
public final class LiveBackends {

    private static final Vertx VERTX = Vertx.vertx();

    private LiveBackends() {
    }

    /**
     * The fleet configuration describes, with an empty state directory, or the boot's refusal listing every
     * problem. Backends are not probed here unless the configuration asks for probes.
     */
    public static Fleet fleet(org.canonic.gateway.config.GatewayConfig config) {
        return fleet(config, new SimpleMeterRegistry());
    }

    /** As {@link #fleet(org.canonic.gateway.config.GatewayConfig)}, its meters in {@code registry}. */
    public static Fleet fleet(org.canonic.gateway.config.GatewayConfig config,
                              io.micrometer.core.instrument.MeterRegistry registry) {
        RegistrationStore store;
        try {
            store = new FileRegistrationStore(new org.canonic.gateway.coordination.StateDirectory(
                    java.nio.file.Files.createTempDirectory("fleet-state")), new com.fasterxml.jackson.databind.ObjectMapper());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return fleet(config, registry, store);
    }

    /** As {@link #fleet(org.canonic.gateway.config.GatewayConfig)}, its registrations kept in {@code store}. */
    public static Fleet fleet(org.canonic.gateway.config.GatewayConfig config,
                              io.micrometer.core.instrument.MeterRegistry registry, RegistrationStore store) {
        java.util.List<String> problems = new java.util.ArrayList<>();
        FleetPlanner planner = new FleetPlanner(config, java.util.Optional.empty(), name -> null);
        FleetPlanner.Plan plan = planner.plan(store.load(problems), problems);
        if (!problems.isEmpty()) {
            throw new org.canonic.gateway.config.InvalidConfigurationException(problems);
        }
        return new Fleet(plan, new FleetServices(VERTX, config.health(), config.breaker(),
                new GatewayMetrics(registry), FleetEvents.NONE,
                config.defaults().adaptiveConcurrency(), config.routing()), planner.resolver(), store);
    }

    /** A configured backend around {@code spec}; give it {@code probe=NONE} to have it routable at once. */
    public static LiveBackend of(Backend spec) {
        var config = ConfigFixture.with().build();
        return new LiveBackend(spec, LiveBackend.Origin.CONFIGURED, new FleetServices(VERTX, config.health(),
                config.breaker(), new GatewayMetrics(new SimpleMeterRegistry()), FleetEvents.NONE,
                config.defaults().adaptiveConcurrency(), config.routing()));
    }
}

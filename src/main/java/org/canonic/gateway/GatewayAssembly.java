package org.canonic.gateway;

import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.backend.BackendClients;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.health.CircuitBreakers;
import org.canonic.gateway.health.HealthRegistry;
import org.canonic.gateway.health.Prober;
import org.canonic.gateway.policy.PolicyChain;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.routing.ConcurrencyLimits;
import org.canonic.gateway.routing.Dispatcher;
import org.canonic.gateway.routing.ExchangeServices;
import org.canonic.gateway.routing.Topology;
import org.canonic.gateway.routing.TopologyFactory;
import org.canonic.gateway.simulator.SimulatorServer;
import org.jboss.logging.Logger;

import java.util.Optional;

/**
 * Wires the stages of the request path together once, at start-up. Building the topology here (rather than on
 * first request) is what makes invalid configuration stop the boot: the gateway never runs half-configured.
 */
@Startup
@Singleton
public class GatewayAssembly {

    private static final Logger LOG = Logger.getLogger(GatewayAssembly.class);

    private final SimulatorServer simulator;
    private final Topology topology;
    private final BackendClients clients;
    private final RequestJson json = new RequestJson();
    private final PolicyChain policy;
    private final HealthRegistry health;
    private final ConcurrencyLimits limits;
    private final Prober prober;
    private final Dispatcher dispatcher;

    GatewayAssembly(GatewayConfig config, Vertx vertx) {
        this.simulator = config.simulator().enabled() ? SimulatorServer.start(vertx, config.simulator()) : null;
        this.topology = new TopologyFactory(config, Optional.ofNullable(simulator).map(SimulatorServer::baseUrl))
                .build();
        this.clients = new BackendClients(vertx, topology.backends().values());
        this.policy = new PolicyChain(topology, json);
        this.health = new HealthRegistry(topology.backends().values(), config);
        this.limits = new ConcurrencyLimits(topology.backends().values());
        ExchangeServices services = new ExchangeServices(vertx, clients, json, health,
                new CircuitBreakers(health, config.breaker()), limits, config.keepAliveInterval().toMillis(),
                config.limits().maxUpstreamBodySize().asLongValue(),
                config.defaults().concurrencyWait().toMillis(),
                Math.max(1, config.health().interval().toSeconds()));
        this.dispatcher = new Dispatcher(topology, services);
        this.prober = new Prober(vertx, health, config.health());
        prober.start();
        topology.routes().forEach(route -> LOG.infof("Route %s serves %s via %s%s", route.name(), route.modelNames(),
                route.backends().stream().map(b -> b.name() + " (" + b.endpoint().origin() + ")").toList(),
                topology.fallback().map(f -> ", fallback " + f.name()).orElse("")));
    }

    @Produces
    @Singleton
    Topology topology() {
        return topology;
    }

    @Produces
    @Singleton
    PolicyChain policy() {
        return policy;
    }

    @Produces
    @Singleton
    Dispatcher dispatcher() {
        return dispatcher;
    }

    @Produces
    @Singleton
    RequestJson requestJson() {
        return json;
    }

    @Produces
    @Singleton
    HealthRegistry health() {
        return health;
    }

    @Produces
    @Singleton
    ConcurrencyLimits limits() {
        return limits;
    }

    @PreDestroy
    void stop() {
        prober.stop();
        clients.close();
        if (simulator != null) {
            simulator.stop();
        }
    }
}

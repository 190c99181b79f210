package org.canonic.gateway;

import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.backend.BackendClients;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.policy.PolicyChain;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.routing.Dispatcher;
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
    private final Dispatcher dispatcher;

    GatewayAssembly(GatewayConfig config, Vertx vertx) {
        this.simulator = config.simulator().enabled() ? SimulatorServer.start(vertx, config.simulator()) : null;
        this.topology = new TopologyFactory(config, Optional.ofNullable(simulator).map(SimulatorServer::baseUrl))
                .build();
        this.clients = new BackendClients(vertx, topology.backends().values());
        this.policy = new PolicyChain(topology, json);
        this.dispatcher = new Dispatcher(vertx, topology, clients, json, config.keepAliveInterval().toMillis(),
                config.limits().maxUpstreamBodySize().asLongValue());
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

    @PreDestroy
    void stop() {
        clients.close();
        if (simulator != null) {
            simulator.stop();
        }
    }
}

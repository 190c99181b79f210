package org.canonic.gateway;

import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.backend.BackendClients;
import org.canonic.gateway.backend.Tokenizer;
import org.canonic.gateway.config.BootChecks;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.config.GatewayConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.faulttolerance.api.CircuitBreakerState;
import org.canonic.gateway.health.BackendHealth;
import org.canonic.gateway.health.BackendState;
import org.canonic.gateway.health.CircuitBreakers;
import org.canonic.gateway.health.HealthRegistry;
import org.canonic.gateway.health.Prober;
import org.canonic.gateway.memory.BodyBudget;
import org.canonic.gateway.policy.ClientKeys;
import org.canonic.gateway.policy.KeyLoader;
import org.canonic.gateway.policy.PolicyChain;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.routing.ConcurrencyLimits;
import org.canonic.gateway.routing.Dispatcher;
import org.canonic.gateway.routing.ExchangeServices;
import org.canonic.gateway.topology.Topology;
import org.canonic.gateway.topology.TopologyFactory;
import org.canonic.gateway.simulator.SimulatorServer;
import org.canonic.gateway.telemetry.GatewayMetrics;
import org.canonic.gateway.telemetry.Ledger;
import org.canonic.gateway.telemetry.Telemetry;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
    private final Ledger ledger;
    private final Telemetry telemetry;

    private static final List<String> STATES = Arrays.stream(BackendState.values()).map(Enum::name).toList();
    private static final List<String> BREAKER_STATES = Arrays.stream(CircuitBreakerState.values()).map(Enum::name)
            .toList();

    GatewayAssembly(GatewayConfig config, Vertx vertx, MeterRegistry registry, BodyBudget bodyBudget) {
        this.simulator = config.simulator().enabled() ? SimulatorServer.start(vertx, config.simulator()) : null;
        List<String> problems = new ArrayList<>(BootChecks.check(config, ConfigProvider.getConfig()));
        ClientKeys keys = KeyLoader.load(config.auth(), problems);
        this.topology = buildTopology(config, problems);
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        if (!KeyLoader.required(config.auth())) {
            LOG.warn("Client authentication is OFF (gateway.auth.mode=none): anyone who reaches the gateway can use it");
        }
        this.clients = new BackendClients(vertx, topology.backends().values());
        this.health = new HealthRegistry(topology.backends().values(), config);
        this.policy = new PolicyChain(topology, json, keys, config, health,
                new Tokenizer(vertx, clients, config.contextFit().tokenizeTimeout().toMillis()));
        this.limits = new ConcurrencyLimits(topology.backends().values());
        GatewayMetrics metrics = new GatewayMetrics(registry);
        GatewayConfig.LedgerConfig ledgerConfig = config.telemetry().ledger();
        this.ledger = new Ledger(ledgerConfig.path().map(String::strip).filter(p -> !p.isEmpty()).map(Path::of),
                ledgerConfig.queueSize(), ledgerConfig.rotateSize().asLongValue());
        metrics.ledger(ledger);
        this.telemetry = new Telemetry(metrics, ledger, ledgerConfig.includeContent());
        for (BackendHealth backend : health.all()) {
            metrics.backend(backend.backend().name(), STATES, () -> backend.snapshot().state().name(), BREAKER_STATES,
                    () -> backend.breakerState().name(), () -> limits.of(backend.backend()).inFlight());
        }
        ExchangeServices services = new ExchangeServices(vertx, clients, json, health,
                new CircuitBreakers(health, config.breaker()), limits, telemetry, config.telemetry().responseInfo(),
                config.keepAliveInterval().toMillis(),
                config.limits().maxUpstreamBodySize().asLongValue(),
                config.defaults().concurrencyWait().toMillis(),
                Math.max(1, config.health().interval().toSeconds()), bodyBudget);
        this.dispatcher = new Dispatcher(services);
        this.prober = new Prober(vertx, health, config.health());
        prober.start();
        topology.routes().forEach(route -> LOG.infof("Route %s serves %s via %s%s", route.name(), route.modelNames(),
                route.backends().stream().map(b -> b.name() + " (" + b.endpoint().origin() + ")").toList(),
                topology.fallback().map(f -> ", fallback " + f.name()).orElse("")));
    }

    /** Resolves routes and backends, adding any problem to the boot's list instead of failing alone. */
    private Topology buildTopology(GatewayConfig config, List<String> problems) {
        try {
            return new TopologyFactory(config, Optional.ofNullable(simulator).map(SimulatorServer::baseUrl)).build();
        } catch (InvalidConfigurationException e) {
            problems.addAll(e.problems());
            return null;
        }
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

    @Produces
    @Singleton
    Telemetry telemetry() {
        return telemetry;
    }

    @PreDestroy
    void stop() {
        prober.stop();
        clients.close();
        ledger.close();
        if (simulator != null) {
            simulator.stop();
        }
    }
}

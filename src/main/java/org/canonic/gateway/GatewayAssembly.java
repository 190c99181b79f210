package org.canonic.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.backend.Tokenizer;
import org.canonic.gateway.compute.AccountKeys;
import org.canonic.gateway.config.BootChecks;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.OperationsConfig;
import org.canonic.gateway.config.SimulatorConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.coordination.Webhooks;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.FleetPlanner;
import org.canonic.gateway.fleet.FleetServices;
import org.canonic.gateway.fleet.FileRegistrationStore;
import org.canonic.gateway.fleet.RedisRegistrationStore;
import org.canonic.gateway.fleet.RegistrationStore;
import org.canonic.gateway.ops.AdminAuth;
import org.canonic.gateway.memory.BodyBudget;
import org.canonic.gateway.keys.ClientKeyRegistry;
import org.canonic.gateway.keys.FileIssuedKeyStore;
import org.canonic.gateway.keys.RedisIssuedKeyStore;
import org.canonic.gateway.policy.KeyBudgets;
import org.canonic.gateway.policy.KeyLoader;
import org.canonic.gateway.policy.PolicyChain;
import org.canonic.gateway.placement.Placements;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.routing.Dispatcher;
import org.canonic.gateway.routing.ExchangeServices;
import org.canonic.gateway.simulator.SimulatorServer;
import org.canonic.gateway.simulator.SimulatorSettings;
import org.canonic.gateway.state.Replicas;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.telemetry.GatewayMetrics;
import org.canonic.gateway.telemetry.Ledger;
import org.canonic.gateway.telemetry.Telemetry;
import org.canonic.gateway.telemetry.Tracing;
import org.canonic.gateway.usage.LedgerReplay;
import org.canonic.gateway.usage.SharedUsage;
import org.canonic.gateway.usage.UsageBook;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Wires the stages of the request path together once, at start-up. Planning the fleet here (rather than on first
 * request) is what makes invalid configuration, or a registration whose key cannot be read, stop the boot with one
 * message listing every problem: the gateway never runs half-configured.
 */
@Startup
@Singleton
public class GatewayAssembly {

    private static final Logger LOG = Logger.getLogger(GatewayAssembly.class);

    private final SimulatorServer simulator;
    private final Fleet fleet;
    private final RequestJson json = new RequestJson();
    private final PolicyChain policy;
    private final Dispatcher dispatcher;
    private final Ledger ledger;
    private final Telemetry telemetry;
    private final ClientKeyRegistry keys;
    private final UsageBook usage;
    private final Tracing tracing;
    private final SharedUsage sharedUsage;

    GatewayAssembly(GatewayConfig config, Vertx vertx, MeterRegistry registry, StateDirectory state,
                    Webhooks webhooks, ObjectMapper mapper, BodyBudget bodyBudget, StateStore stateStore,
                    Replicas replicas) {
        List<String> problems = new ArrayList<>(BootChecks.check(config, ConfigProvider.getConfig()));
        problems.addAll(AdminAuth.problems(config));
        problems.addAll(AccountKeys.problems(config, System::getenv));
        AccountKeys.warnings(System::getenv).forEach(LOG::warn);
        this.simulator = startSimulator(config.simulator(), vertx, mapper, problems);
        this.keys = new ClientKeyRegistry(config.auth(), stateStore.shared()
                ? new RedisIssuedKeyStore(stateStore, mapper) : new FileIssuedKeyStore(state, mapper), problems);
        RedisRegistrationStore shared = stateStore.shared() ? new RedisRegistrationStore(stateStore, mapper) : null;
        RegistrationStore store = shared != null ? shared : new FileRegistrationStore(state, mapper);
        FleetPlanner planner = new FleetPlanner(config, Optional.ofNullable(simulator).map(SimulatorServer::baseUrl),
                System::getenv);
        FleetPlanner.Plan plan = planner.plan(store.load(problems), problems);
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        if (!KeyLoader.required(config.auth())) {
            LOG.warn("Client authentication is OFF (gateway.auth.mode=none): anyone who reaches the gateway can use it");
        }
        GatewayMetrics metrics = new GatewayMetrics(registry);
        this.fleet = new Fleet(plan, new FleetServices(vertx, config.health(), config.breaker(), metrics,
                webhooks::publish, config.defaults().adaptiveConcurrency(), config.routing(), replicas::share), planner.resolver(), store);
        if (shared != null) {
            // Another replica's change (and everything missed while cut off from Redis) reaches this fleet here.
            long drainMs = config.drainDeadline().toMillis();
            stateStore.subscribe(RedisRegistrationStore.CHANNEL, () -> fleet.syncShared(drainMs));
        }
        if (stateStore.shared()) {
            // A key made or deleted on another replica applies here at once (and within a reload interval anyway).
            stateStore.subscribe(RedisIssuedKeyStore.CHANNEL, keys::refreshIssued);
        }
        keys.start(vertx);
        this.usage = new UsageBook(config.usage().retention().toMillis());
        if (stateStore.shared()) {
            // Replicas add their requests to one book in Redis (which keeps it across restarts: no replay into it).
            this.sharedUsage = new SharedUsage(stateStore, config.usage().retention().toMillis());
            usage.share(sharedUsage);
        } else {
            this.sharedUsage = null;
        }
        this.policy = new PolicyChain(fleet, json, keys, config,
                new Tokenizer(vertx, config.contextFit().tokenizeTimeout().toMillis()),
                new KeyBudgets.DailyUsage() {
                    @Override
                    public long tokensToday(String key) {
                        return usage.tokensToday(key);
                    }

                    @Override
                    public double usdToday(String key) {
                        return usage.usdToday(key);
                    }
                });
        OperationsConfig.LedgerConfig ledgerConfig = config.telemetry().ledger();
        Optional<Path> ledgerPath = ledgerConfig.path().map(String::strip).filter(p -> !p.isEmpty()).map(Path::of);
        // Before the ledger writes its first line: every line is counted once, from the file or as it is written.
        ledgerPath.ifPresent(path -> LedgerReplay.replay(path, usage, mapper,
                config.usage().rebuildMaxSize().asLongValue(), System.currentTimeMillis()));
        this.ledger = new Ledger(ledgerPath, ledgerConfig.queueSize(), ledgerConfig.rotateSize().asLongValue(),
                usage::addRecords);
        metrics.ledger(ledger);
        this.tracing = new Tracing(config.telemetry().tracing().otlpEndpoint(),
                config.telemetry().tracing().serviceName());
        this.telemetry = new Telemetry(metrics, ledger, ledgerConfig.includeContent(), tracing);
        ExchangeServices services = new ExchangeServices(vertx, json, telemetry, config.telemetry().responseInfo(),
                config.keepAliveInterval().toMillis(),
                config.limits().maxUpstreamBodySize().asLongValue(),
                config.defaults().concurrencyWait().toMillis(),
                Math.max(1, config.health().interval().toSeconds()),
                config.clientStallTimeout().toMillis(), bodyBudget,
                config.defaults().clocks().nonStreamTotal().toMillis(), config.routing());
        this.dispatcher = new Dispatcher(services, new Placements(config, metrics));
        fleet.snapshot().routes().forEach(route -> LOG.infof("Route %s serves %s via %s%s", route.name(),
                route.modelNames(), route.backends().isEmpty() ? "no backend yet"
                        : route.backends().stream().map(b -> b.name() + " (" + b.spec().endpoint().origin() + ")")
                        .toList(),
                fleet.snapshot().fallback().map(f -> ", fallback " + f.name()).orElse("")));
    }

    /**
     * The embedded simulator when it is enabled; with invalid settings, start-up stops here with every problem found so
     * far (the fleet would only add that its {@code simulator:} backends have nothing to point at).
     */
    private static SimulatorServer startSimulator(SimulatorConfig config, Vertx vertx,
                                                  ObjectMapper mapper, List<String> problems) {
        if (!config.enabled()) {
            return null;
        }
        SimulatorSettings settings = SimulatorSettings.of(config);
        List<String> invalid = settings.problems("gateway.simulator.");
        if (!invalid.isEmpty()) {
            problems.addAll(invalid);
            throw new InvalidConfigurationException(problems);
        }
        SimulatorServer simulator = SimulatorServer.start(vertx, settings, mapper);
        LOG.warnf("SIMULATOR: the embedded simulated vLLM backend serves %s at %s. It generates canned text; "
                + "never enable it in production.", settings.models(), simulator.baseUrl());
        return simulator;
    }

    @Produces
    @Singleton
    Fleet fleet() {
        return fleet;
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
    Telemetry telemetry() {
        return telemetry;
    }

    @Produces
    @Singleton
    ClientKeyRegistry clientKeys() {
        return keys;
    }

    /** Unremovable: nothing injects it, but operators' tools and tests add exporters to it at run time. */
    @Produces
    @Singleton
    @io.quarkus.arc.Unremovable
    Tracing tracing() {
        return tracing;
    }

    @Produces
    @Singleton
    UsageBook usage() {
        return usage;
    }

    @PreDestroy
    void stop() {
        keys.close();
        fleet.close();
        ledger.close();
        tracing.close();
        if (sharedUsage != null) {
            sharedUsage.close();
        }
        if (simulator != null) {
            simulator.stop();
        }
    }
}

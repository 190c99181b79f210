package org.canonic.gateway.capacity;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.Webhooks;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.routing.Dispatcher;
import org.canonic.gateway.schedule.Schedule;
import org.canonic.gateway.schedule.ScheduleEntry;
import org.canonic.gateway.state.Replicas;
import org.canonic.gateway.state.StateStore;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one {@link CapacityController} of this replica: its configured policies checked at start (a value out of
 * range stops the boot), ticking on a timer as a blocking task that never overlaps itself. With no policy it looks
 * at nothing and does nothing.
 */
@Singleton
public class CapacityProducer {

    private static final Logger LOG = Logger.getLogger(CapacityProducer.class);

    private final AtomicBoolean ticking = new AtomicBoolean();
    private long timer = -1;
    private Vertx vertx;
    private SharedPolicies shared;
    private volatile boolean storeReachable = true;

    @Produces
    @Singleton
    @Startup
    CapacityController controller(CapacityConfig config, GatewayConfig gateway, ComputeService compute, Fleet fleet,
                                  Replicas replicas, Webhooks webhooks, MeterRegistry registry, Vertx vertx,
                                  Schedule schedule, StateStore state, StateDirectory directory,
                                  ObjectMapper mapper, Dispatcher dispatcher) {
        List<CapacityPolicy> policies = policies(config, compute, gateway.compute().maxHours());
        SharedDemand demand = SharedDemand.of(state);
        CapacityController controller = new CapacityController(policies, compute, fleet, Clock.systemUTC(),
                replicas::leader, webhooks::publish, registry, demand, config.defaultTimeToReady());
        compute.onInterruption(controller::lost);
        // Windows are launched ahead by the time to ready learned from past launches (the default before any).
        controller.windows(new CapacityWindows(() -> schedule.list(null, null, null, ScheduleEntry.Kind.CAPACITY),
                controller.timeToReady()));
        // Asked only when a request finds no routable backend; a route without a policy answers as before.
        dispatcher.wakeOnDemand(new CapacityWake(controller, task -> vertx.executeBlocking(() -> {
            task.run();
            return null;
        }, false), () -> fleet.snapshot().version()));
        if (demand.shared()) {
            state.subscribe(SharedDemand.CHANNEL, controller::takeSharedDemands);
        }
        // Policies set through the API: in the state directory, or shared on Redis by every replica.
        CapacityPolicyStore stored = state.shared() ? new RedisCapacityPolicyStore(state, mapper)
                : new FileCapacityPolicyStore(directory, mapper);
        shared = new SharedPolicies(stored, controller, policy -> policy.problems(null, compute.providers().keySet(),
                compute.recipes().all().keySet(), gateway.compute().maxHours()));
        sync();
        this.vertx = vertx;
        timer = vertx.setPeriodic(config.tick().toMillis(), id -> {
            if (ticking.compareAndSet(false, true)) {
                vertx.executeBlocking(() -> {
                    try {
                        sync();
                        controller.tick();
                    } finally {
                        ticking.set(false);
                    }
                    return null;
                }, false);
            }
        });
        if (!policies.isEmpty()) {
            LOG.infof("Capacity: %d policies (%s), ticking every %s", policies.size(),
                    policies.stream().map(CapacityPolicy::recipe).toList(), config.tick());
        }
        return controller;
    }

    /** The policies set through the API, as this replica applies them (built with the controller). */
    @Produces
    @Singleton
    SharedPolicies shared(CapacityController controller) {
        return shared;
    }

    /** Applies what the store holds; an unreachable store keeps the policies last applied (said once). */
    private void sync() {
        try {
            shared.sync();
            if (!storeReachable) {
                LOG.infof("Capacity: %s answers again", shared.where());
            }
            storeReachable = true;
        } catch (RuntimeException e) {
            if (storeReachable) {
                LOG.warnf("Capacity: the stored policies cannot be read (%s); the policies last read stay in force",
                        e.getMessage());
            }
            storeReachable = false;
        }
    }

    /** @throws InvalidConfigurationException listing every value out of range */
    static List<CapacityPolicy> policies(CapacityConfig config, ComputeService compute, double maxHours) {
        List<String> problems = new ArrayList<>();
        if (config.tick().toMillis() < 1000 || config.tick().toMinutes() > 10) {
            problems.add("gateway.capacity.tick must lie between 1s and 10m, got " + config.tick());
        }
        if (config.defaultTimeToReady().isNegative() || config.defaultTimeToReady().toMinutes() > 120) {
            problems.add("gateway.capacity.default-time-to-ready must lie between 0s and 2h, got "
                    + config.defaultTimeToReady());
        }
        List<CapacityPolicy> policies = new ArrayList<>();
        for (Map.Entry<String, CapacityConfig.Policy> e : config.policies().entrySet()) {
            CapacityPolicy policy = CapacityPolicy.of(e.getKey(), e.getValue(), problems);
            problems.addAll(policy.problems("gateway.capacity.policies." + e.getKey(), compute.providers().keySet(),
                    compute.recipes().all().keySet(), maxHours));
            policies.add(policy);
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return policies;
    }

    void close(@Disposes CapacityController controller) {
        if (vertx != null && timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }
}

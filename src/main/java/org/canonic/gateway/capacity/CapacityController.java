package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.Interruption;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.FleetSnapshot;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * Follows demand within the cost guard, one recipe's policy at a time, on the leader replica only. Each {@link #tick}
 * reads the recipe's instances (tracked by {@link ComputeService}) and the fleet's own load counts of their backends,
 * then at most one decision per policy:
 * <ul>
 *   <li>hold, when any provider list it depends on fails (never act on wrong information), or a launch is under way
 *       and the signal is not above target;</li>
 *   <li>replace, at once, a serving instance lost without being asked (outbid, exited, gone, unresponsive: told by
 *       {@link ComputeService#onInterruption}) while the policy still needs it ({@link Replacements});</li>
 *   <li>scale out, below {@code min_instances} or when the requests waiting per serving instance stayed at or above
 *       the target for the whole window: as many instances as the waiting work calls for, instances launching counted
 *       as capacity on the way, up to {@code max_scale_out_step} per decision ({@link ScaleOutSize}); each the
 *       cheapest offer meeting the constraints, provider by provider, launched
 *       through the same estimate, tiers and daily cap as a manual launch, and only in the automatic or warn tier
 *       (one that would need a human confirmation is refused, reported once for the UTC day, never retried);</li>
 *   <li>scale in, when the open requests per serving instance stayed at or below the threshold for the idle window:
 *       the newest or most expensive instance, drained by its open requests and stopped or destroyed through the
 *       anti-stop guard ({@code BackendHandover}), never below {@code min_instances}.</li>
 * </ul>
 * Windows and cooldowns run on the injected clock, so tests step it. What is decided is carried out by
 * {@link CapacityActions}.
 */
public final class CapacityController {

    private static final Logger LOG = Logger.getLogger(CapacityController.class);
    /** The caller automatic actions are recorded under in the tracked actions. */
    static final String CALLER = "capacity";
    static final int DECISIONS_KEPT = 20;
    static final Set<TrackedInstance.State> ACTIVE = Set.of(TrackedInstance.State.PROVISIONING,
            TrackedInstance.State.WAITING, TrackedInstance.State.READY);

    private final ComputeService compute;
    private final Fleet fleet;
    private final Clock clock;
    private final BooleanSupplier leads;
    private final SharedDemand shared;
    private final long defaultTimeToReadyMs;
    private final LaunchChoice choice;
    private final CapacityActions actions;
    private final Map<String, CapacityPolicy> policies = new ConcurrentHashMap<>();
    private final Map<String, PolicyState> states = new ConcurrentHashMap<>();
    private volatile CapacityWindows windows = CapacityWindows.own(java.time.Duration.ofMinutes(10));
    private final Replacements replacements = new Replacements();

    /** One replica, and 10 minutes to ready before any launch was seen. */
    public CapacityController(List<CapacityPolicy> configured, ComputeService compute, Fleet fleet, Clock clock,
                              BooleanSupplier leads, BiConsumer<String, Map<String, Object>> events,
                              MeterRegistry registry) {
        this(configured, compute, fleet, clock, leads, events, registry, SharedDemand.NONE, Duration.ofMinutes(10));
    }

    /**
     * @param leads              whether this replica leads the periodic jobs now ({@code Replicas::leader})
     * @param events             where events go ({@code Webhooks::publish}): never blocks, never throws
     * @param shared             wake demand passed between replicas ({@link SharedDemand#NONE} for one)
     * @param defaultTimeToReady the time to ready promised before any launch of a recipe and provider was seen
     */
    public CapacityController(List<CapacityPolicy> configured, ComputeService compute, Fleet fleet, Clock clock,
                              BooleanSupplier leads, BiConsumer<String, Map<String, Object>> events,
                              MeterRegistry registry, SharedDemand shared, Duration defaultTimeToReady) {
        this.compute = compute;
        this.fleet = fleet;
        this.clock = clock;
        this.leads = leads;
        this.shared = shared;
        this.defaultTimeToReadyMs = defaultTimeToReady.toMillis();
        this.choice = new LaunchChoice(compute);
        this.actions = new CapacityActions(compute, clock, events, registry, choice);
        configured.forEach(this::put);
    }

    /**
     * A serving instance was lost ({@link ComputeService#onInterruption}): with a policy for its recipe it waits for
     * the next tick, which may replace it.
     */
    public void lost(Interruption lost) {
        if (policies.containsKey(lost.recipe())) {
            replacements.add(lost);
        }
    }

    /** Where scheduled windows come from (the policies' own and the schedule registry's) and their lead time. */
    public void windows(CapacityWindows windows) {
        this.windows = windows;
    }

    /** Replaces a recipe's policy; its windows, cooldowns and a refusal of the day start over. */
    public void put(CapacityPolicy policy) {
        policies.put(policy.recipe(), policy);
        states.put(policy.recipe(), new PolicyState());
    }

    /** Takes a recipe's policy away: from then on nothing is launched or stopped for it automatically. */
    public Optional<CapacityPolicy> remove(String recipe) {
        states.remove(recipe);
        replacements.forget(recipe);
        return Optional.ofNullable(policies.remove(recipe));
    }

    public Optional<CapacityPolicy> policy(String recipe) {
        return Optional.ofNullable(policies.get(recipe));
    }

    /** One look at every policy; a follower does nothing (the leader alone launches and stops). */
    public void tick() {
        if (!leads.getAsBoolean()) {
            return;
        }
        for (CapacityPolicy policy : List.copyOf(policies.values())) {
            PolicyState st = states.computeIfAbsent(policy.recipe(), r -> new PolicyState());
            st.deciding.lock();
            try {
                decide(policy, st);
            } catch (RuntimeException e) {
                LOG.errorf("Capacity: %s: %s", policy.recipe(), e.toString());
            } finally {
                st.deciding.unlock();
            }
        }
    }

    /** The policy's state as it stands (a new one after each {@link #put}). */
    PolicyState state(String recipe) {
        return states.computeIfAbsent(recipe, r -> new PolicyState());
    }

    /** The policy whose recipe joins {@code route} (the first by recipe name), or null; never blocks. */
    CapacityPolicy forRoute(String route) {
        CapacityPolicy found = null;
        for (CapacityPolicy p : policies.values()) {
            if ((found == null || p.recipe().compareTo(found.recipe()) < 0) && compute.recipes().find(p.recipe())
                    .map(r -> r.route().equals(route)).orElse(false)) {
                found = p;
            }
        }
        return found;
    }

    ComputeService compute() {
        return compute;
    }

    long defaultTimeToReadyMs() {
        return defaultTimeToReadyMs;
    }

    /**
     * The expected time from a launch to serving: the median of the last launches of the recipe on the provider
     * ({@code compute.ReadinessTimes}), else the configured default. What a waking request is told and what a
     * scheduled window is launched ahead by.
     */
    TimeToReady timeToReady() {
        return (recipe, provider) -> Duration.ofMillis(compute.readinessTimes().expectedMs(recipe, provider)
                .orElse(defaultTimeToReadyMs));
    }

    /** A request's demand, on the controller's clock: what {@link #decide} acts on (scale out without a window). */
    void demand(PolicyState st) {
        st.demandAtMs = clock.millis();
    }

    /**
     * Decides for {@code p} now, if this replica leads and no other decision for it is running (else false: the
     * running one, or the leader, sees the demand). Blocking (provider calls).
     */
    boolean decideNow(CapacityPolicy p, PolicyState st) {
        if (!leads.getAsBoolean() || !st.deciding.tryLock()) {
            return false;
        }
        try {
            decide(p, st);
        } finally {
            st.deciding.unlock();
        }
        return true;
    }

    /**
     * What a scale-out would launch now, read only ({@link LaunchChoice#plan}), after passing the demand on. Both are
     * held a moment (the choice 2 s, the passing 1 s): requests on a follower before the leader's launch shows in the
     * shared record would otherwise ask the providers, and have the leader list them, once each.
     */
    Optional<String> passDemand(CapacityPolicy p, PolicyState st) {
        long now = System.currentTimeMillis();
        if (now - st.passedAtMs >= 1000) {
            st.passedAtMs = now;
            shared.pass(p.recipe());
        }
        String planned = st.planned;
        if (planned == null || now >= st.plannedUntilMs) {
            planned = choice.plan(p, st, LocalDate.now(clock.withZone(ZoneOffset.UTC)).equals(st.refusedDay),
                    active(p.recipe())).orElse("");
            st.planned = planned;
            st.plannedUntilMs = now + 2000;
        }
        return planned.isEmpty() ? Optional.empty() : Optional.of(planned);
    }

    /** The leader acts on demand other replicas passed (their message arrived, or the subscription came back). */
    void takeSharedDemands() {
        if (!leads.getAsBoolean()) {
            return;
        }
        for (CapacityPolicy p : List.copyOf(policies.values())) {
            PolicyState st = state(p.recipe());
            if (shared.waiting(p.recipe()) && st.deciding.tryLock()) {
                try {
                    decide(p, st);
                } catch (RuntimeException e) {
                    LOG.errorf("Capacity: %s: %s", p.recipe(), e.toString());
                } finally {
                    st.deciding.unlock();
                }
            }
        }
    }

    /** The recipe's instances that bill or soon will: launching, waiting for readiness, serving. */
    private List<TrackedInstance> active(String recipe) {
        return compute.all().stream().filter(i -> recipe.equals(i.recipe()) && ACTIVE.contains(i.state())).toList();
    }

    private void decide(CapacityPolicy policy, PolicyState st) {
        long now = clock.millis();
        // Scheduled capacity: a window in force (or about to open) raises min_instances for this decision.
        CapacityWindows.Floor floor = windows.floor(policy, clock.instant());
        if (floor.unreadable() != null) {
            st.record(now, "hold", floor.unreadable() + "; no launch or scale-in without the scheduled windows", true);
            return;
        }
        CapacityPolicy p = policy.withMinInstances(floor.minInstances());
        List<TrackedInstance> active = active(p.recipe());
        String failed = choice.failedList(p, active);
        if (failed != null) {
            // Fail closed: a list that errors is no evidence of how many run, so neither launch nor stop on it.
            st.highSinceMs = -1;
            st.lowSinceMs = -1;
            st.desired = active.size();
            st.record(now, "hold", failed + "; no launch or scale-in on wrong information", true);
            return;
        }
        Interruption lost = replacements.take(p.recipe());
        if (lost != null) {
            String reason = Replacements.needed(p, st, now, active.size(), lost);
            if (reason != null) {
                actions.scaleOut(p, st, now, reason, lost.instance()); // at once, no cooldown: it was there a moment ago
            }
            return;
        }
        List<TrackedInstance> ready = active.stream().filter(i -> i.state() == TrackedInstance.State.READY
                && fleet.find(i.name()).isPresent()).toList();
        Signal signal = Signal.of(fleet, ready).withTtftP90Ms(TtftSignal.p90SinceLastLook(ready.stream()
                .map(i -> fleet.find(i.name())).flatMap(Optional::stream).toList(), st.ttftSeen));
        st.signal = signal;
        int n = active.size();
        st.desired = Math.max(p.minInstances(), Math.min(n, p.maxInstances()));
        if (n < p.minInstances()) {
            st.desired = p.minInstances();
            if (coolingOut(p, st, now) == null) {
                actions.scaleOut(p, st, now, n + " active instances, below min_instances " + p.minInstances()
                        + (floor.because() == null ? "" : " of the " + floor.because()));
            }
            return;
        }
        boolean underWay = ready.size() < n;
        if (underWay && (ready.isEmpty() || !p.wantsMore(signal))) {
            // A launch or a start is under way and what serves keeps up (or nothing serves to measure): wait for it.
            // Never scale in or wake meanwhile; only a signal still above target may launch more (below).
            st.highSinceMs = -1;
            st.lowSinceMs = -1;
            return;
        }
        if (!underWay && demanded(p, st, now)) {
            // Woken on demand: a request found no backend serving the route (scale to zero, or all drained or dead).
            // Deduplicated by the launch itself: once under way it counts as active and this branch is not reached.
            if (n >= p.maxInstances()) {
                st.record(now, "hold", "a request found no backend serving route " + route(p) + ", but already at"
                        + " max_instances " + p.maxInstances(), true);
                return;
            }
            st.desired = n + 1;
            if (st.lastOutAttemptMs > st.lastChangeMs && now - st.lastOutAttemptMs < p.scaleOutCooldown().toMillis()) {
                return; // the last attempt launched nothing: not again before the cooldown, however many ask
            }
            st.demandAtMs = -1;
            actions.scaleOut(p, st, now, "a request found no backend serving route " + route(p) + " (wake on demand)");
            return;
        }
        if (ready.isEmpty()) {
            return; // min_instances 0, nothing runs and nobody asked
        }
        if (p.wantsMore(signal)) {
            st.lowSinceMs = -1;
            st.highSinceMs = st.highSinceMs < 0 ? now : st.highSinceMs;
            long held = now - st.highSinceMs;
            if (held < p.scaleOutWindow().toMillis()) {
                return;
            }
            if (n >= p.maxInstances()) {
                st.record(now, "hold", p.demand(signal) + " for " + held / 1000 + " s, but already at max_instances "
                        + p.maxInstances(), true);
                return;
            }
            // As many as the waiting work calls for, the instances already launching counted as capacity on the way.
            int wanted = Math.min(ScaleOutSize.wanted(p, signal), p.maxInstances());
            int launches = ScaleOutSize.launches(p, signal, n);
            st.desired = Math.max(n, wanted);
            if (launches == 0) {
                st.record(now, "hold", p.demand(signal) + ", covered by the " + (n
                        - ready.size()) + " instance(s) launching (" + wanted + " wanted)", true);
                return;
            }
            if (coolingOut(p, st, now) == null) {
                String reason = p.demand(signal) + " for " + held / 1000 + " s";
                if (launches > 1 || underWay) {
                    reason += " (" + wanted + " instances wanted, " + ready.size() + " serving, " + (n - ready.size())
                            + " launching)";
                }
                actions.scaleOut(p, st, now, reason, launches);
            }
        } else if (signal.openPerInstance() <= p.scaleInOpenPerInstance()) {
            st.highSinceMs = -1;
            st.lowSinceMs = st.lowSinceMs < 0 ? now : st.lowSinceMs;
            long held = now - st.lowSinceMs;
            if (held < p.scaleInWindow().toMillis() || n <= p.minInstances()) {
                return;
            }
            st.desired = n - 1;
            if (st.lastChangeMs < 0 || now - st.lastChangeMs >= p.scaleInCooldown().toMillis()) {
                actions.scaleIn(p, st, now, ready, "open " + round(signal.openPerInstance()) + " per instance (threshold "
                        + p.scaleInOpenPerInstance() + ") for " + held / 1000 + " s");
            }
        } else {
            st.highSinceMs = -1;
            st.lowSinceMs = -1;
        }
    }

    /**
     * Whether a request is waiting for capacity that nothing serving the route can give (no backend of the route,
     * the policy's instances included, nor the fallback, is routable now): this replica's own demand of the last
     * {@link SharedDemand#TTL_MS} ms, or demand another replica passed (taken).
     */
    private boolean demanded(CapacityPolicy p, PolicyState st, long now) {
        FleetSnapshot snapshot = fleet.snapshot();
        String route = route(p);
        if (snapshot.routes().stream().anyMatch(r -> r.name().equals(route) && snapshot.routable(r))) {
            return false; // served again since (a backend came back): old demand launches nothing
        }
        if (st.demandAtMs >= 0 && now - st.demandAtMs <= SharedDemand.TTL_MS) {
            return true;
        }
        return shared.take(p.recipe());
    }

    private String route(CapacityPolicy p) {
        return compute.recipes().find(p.recipe()).map(r -> r.route()).orElse(p.recipe());
    }

    /** Null when a scale-out may be tried now, else why not. */
    private static String coolingOut(CapacityPolicy p, PolicyState st, long now) {
        long last = Math.max(st.lastChangeMs, st.lastOutAttemptMs);
        return last >= 0 && now - last < p.scaleOutCooldown().toMillis() ? "cooling down" : null;
    }

    /**
     * {@code GET /admin/compute/capacity}: each policy with its current and desired instances, the signal, the last
     * decisions with their reasons, and the projected spend for the rest of the UTC day against the daily cap.
     */
    public ObjectNode view() {
        ObjectNode answer = CapacityView.of(policies.values(), recipe -> states.computeIfAbsent(recipe,
                r -> new PolicyState()), compute, clock, leads.getAsBoolean(), defaultTimeToReadyMs);
        windows.annotate(answer, policies.values(), clock.instant());
        return answer;
    }

    static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

}

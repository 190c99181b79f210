package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeProvider;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.Interruption;
import org.canonic.gateway.compute.Offer;
import org.canonic.gateway.compute.ProvisionRequest;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.fleet.Fleet;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 *   <li>hold, when any provider list it depends on fails (never act on wrong information) or a launch is under way;</li>
 *   <li>replace, at once, a serving instance lost without being asked (outbid, exited, gone, unresponsive: told by
 *       {@link ComputeService#onInterruption}) while the policy still needs it ({@link Replacements});</li>
 *   <li>scale out, below {@code min_instances} or when the requests waiting per serving instance stayed at or above
 *       the target for the whole window: the cheapest offer meeting the constraints, provider by provider, launched
 *       through the same estimate, tiers and daily cap as a manual launch, and only in the automatic or warn tier
 *       (one that would need a human confirmation is refused, reported once for the UTC day, never retried);</li>
 *   <li>scale in, when the open requests per serving instance stayed at or below the threshold for the idle window:
 *       the newest or most expensive instance, drained by its open requests and stopped or destroyed through the
 *       anti-stop guard ({@code BackendHandover}), never below {@code min_instances}.</li>
 * </ul>
 * Windows and cooldowns run on the injected clock, so tests step it.
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
    private final BiConsumer<String, Map<String, Object>> events;
    private final MeterRegistry registry;
    private final Map<String, CapacityPolicy> policies = new ConcurrentHashMap<>();
    private final Map<String, PolicyState> states = new ConcurrentHashMap<>();
    private volatile CapacityWindows windows = CapacityWindows.own(java.time.Duration.ofMinutes(10));
    private final Replacements replacements = new Replacements();

    /**
     * @param leads  whether this replica leads the periodic jobs now ({@code Replicas::leader})
     * @param events where events go ({@code Webhooks::publish}): never blocks, never throws
     */
    public CapacityController(List<CapacityPolicy> configured, ComputeService compute, Fleet fleet, Clock clock,
                              BooleanSupplier leads, BiConsumer<String, Map<String, Object>> events,
                              MeterRegistry registry) {
        this.compute = compute;
        this.fleet = fleet;
        this.clock = clock;
        this.leads = leads;
        this.events = events;
        this.registry = registry;
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
            try {
                decide(policy, states.computeIfAbsent(policy.recipe(), r -> new PolicyState()));
            } catch (RuntimeException e) {
                LOG.errorf("Capacity: %s: %s", policy.recipe(), e.toString());
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
        String failed = failedList(p, active);
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
                scaleOut(p, st, now, reason, lost.instance()); // at once, no cooldown: it was there a moment ago
            }
            return;
        }
        List<TrackedInstance> ready = active.stream().filter(i -> i.state() == TrackedInstance.State.READY
                && fleet.find(i.name()).isPresent()).toList();
        Signal signal = signal(ready).withTtftP90Ms(TtftSignal.p90SinceLastLook(ready.stream()
                .map(i -> fleet.find(i.name())).flatMap(Optional::stream).toList(), st.ttftSeen));
        st.signal = signal;
        int n = active.size();
        st.desired = Math.max(p.minInstances(), Math.min(n, p.maxInstances()));
        if (n < p.minInstances()) {
            st.desired = p.minInstances();
            if (coolingOut(p, st, now) == null) {
                scaleOut(p, st, now, n + " active instances, below min_instances " + p.minInstances()
                        + (floor.because() == null ? "" : " of the " + floor.because()));
            }
            return;
        }
        if (ready.size() < n) {
            // A launch or a start is under way: its capacity is not in the signal yet, so wait for it.
            st.highSinceMs = -1;
            st.lowSinceMs = -1;
            return;
        }
        if (ready.isEmpty()) {
            return; // min_instances 0 and nothing runs: waking on demand is not built yet
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
            st.desired = n + 1;
            String cooling = coolingOut(p, st, now);
            if (cooling == null) {
                scaleOut(p, st, now, p.demand(signal) + " for " + held / 1000 + " s");
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
                scaleIn(p, st, now, ready, "open " + round(signal.openPerInstance()) + " per instance (threshold "
                        + p.scaleInOpenPerInstance() + ") for " + held / 1000 + " s");
            }
        } else {
            st.highSinceMs = -1;
            st.lowSinceMs = -1;
        }
    }

    /** Null when a scale-out may be tried now, else why not. */
    private static String coolingOut(CapacityPolicy p, PolicyState st, long now) {
        long last = Math.max(st.lastChangeMs, st.lastOutAttemptMs);
        return last >= 0 && now - last < p.scaleOutCooldown().toMillis() ? "cooling down" : null;
    }

    /**
     * The first provider list that fails among the policy's providers and those of its instances, as a reason; null
     * when every list answered in a shape the provider client accepts.
     */
    private String failedList(CapacityPolicy p, List<TrackedInstance> active) {
        Set<String> names = new LinkedHashSet<>();
        p.providers().stream().filter(name -> configured(name)).forEach(names::add);
        active.forEach(i -> names.add(i.provider()));
        for (String name : names) {
            try {
                compute.provider(name).list();
            } catch (RuntimeException e) {
                return name + " instance list failed (" + e.getMessage() + ")";
            }
        }
        return null;
    }

    private boolean configured(String provider) {
        ComputeProvider p = compute.providers().get(provider);
        return p != null && p.configured();
    }

    private Signal signal(List<TrackedInstance> ready) {
        double waiting = 0;
        double open = 0;
        int serving = 0;
        for (TrackedInstance i : ready) {
            var backend = fleet.find(i.name());
            if (backend.isEmpty()) {
                continue;
            }
            var load = backend.get().load();
            var vllm = load.signals();
            waiting += load.queued() + (vllm == null ? 0 : vllm.waiting());
            open += load.score();
            serving++;
        }
        return serving == 0 ? new Signal(0, 0, 0) : new Signal(waiting / serving, open / serving, serving);
    }

    private void scaleOut(CapacityPolicy p, PolicyState st, long now, String reason) {
        scaleOut(p, st, now, reason, null);
    }

    /** @param replacing the lost instance this launch replaces, or null for a scale-out on the signal or minimum */
    private void scaleOut(CapacityPolicy p, PolicyState st, long now, String reason, String replacing) {
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        if (today.equals(st.refusedDay)) {
            return; // reported once already; tried again on the next UTC day or after a new policy
        }
        st.lastOutAttemptMs = now;
        if (startStopped(p, st, now, reason, replacing)) {
            return;
        }
        StringBuilder none = new StringBuilder();
        for (String provider : p.providers()) {
            if (!configured(provider)) {
                none.append(provider).append(": not configured; ");
                continue;
            }
            Optional<Offer> offer;
            try {
                offer = CheapestOffer.of(compute, p, provider);
            } catch (ComputeException e) {
                none.append(provider).append(": offers unavailable (").append(e.getMessage()).append("); ");
                continue;
            }
            if (offer.isEmpty()) {
                none.append(provider).append(": no offer meets the constraints; ");
                continue;
            }
            ProvisionRequest request = new ProvisionRequest(provider, p.recipe(), p.plannedHours(), offer.get().id(),
                    null, null, null);
            ObjectNode preview;
            try {
                preview = compute.estimate(request);
            } catch (ComputeException e) {
                none.append(provider).append(": offer ").append(offer.get().id()).append(" could not be priced (")
                        .append(e.getMessage()).append("); ");
                continue;
            }
            String tier = preview.path("tier").asText();
            if (!tier.equals("auto") && !tier.equals("warn")) {
                refused(p, st, now, today, reason, "the cost guard would need a human confirmation (tier " + tier
                        + ", estimate $" + preview.path("estimate_usd").asText() + ", committed today $"
                        + preview.path("committed_today_usd").asText() + " of $"
                        + preview.path("daily_cap_usd").asText() + ")", provider);
                return;
            }
            try {
                ObjectNode launched = compute.provision(request, CALLER, null);
                String instance = launched.path("instance").path("id").asText();
                st.lastChangeMs = now;
                st.highSinceMs = -1;
                Replacements.counted(registry, p, provider, replacing);
                st.record(now, Replacements.action(replacing), reason + ": launched " + instance + " on " + provider
                        + " (offer " + offer.get().id() + ", " + launched.path("estimate").asText() + ", tier "
                        + launched.path("tier").asText() + ")", false);
                publish(Replacements.event(replacing), p, "instance", instance, "provider", provider, "reason",
                        reason, "estimate_usd", launched.path("estimate_usd").asDouble(), "replaces", replacing);
                LOG.infof("Capacity: %s scaled out: %s on %s (%s)", p.recipe(), instance, provider, reason);
            } catch (ComputeException e) {
                if (e.status() == 402 || e.status() == 409 && "daily_cap_exceeded".equals(e.code())) {
                    refused(p, st, now, today, reason, e.getMessage(), provider);
                } else {
                    // Not tried on the next provider: an ambiguous create is looked up by its label first.
                    st.record(now, "launch_failed", reason + ": " + provider + " answered " + e.code() + " ("
                            + e.getMessage() + "); tried again after the scale-out cooldown", false);
                }
            }
            return;
        }
        st.record(now, "hold", reason + ", but no provider has an offer: " + none.toString().strip(), true);
    }

    /**
     * Starts the cheapest instance of the recipe a scale-in stopped (or any stopped one on the policy's providers)
     * rather than renting another: it still bills its storage and its estimate is still reserved, so a new launch
     * beside it would pay twice. One whose start failed is passed over from then on (a new launch is made instead).
     */
    private boolean startStopped(CapacityPolicy p, PolicyState st, long now, String reason, String replacing) {
        Optional<TrackedInstance> stopped = compute.all().stream()
                .filter(i -> p.recipe().equals(i.recipe()) && i.state() == TrackedInstance.State.STOPPED
                        && p.providers().contains(i.provider()) && !st.startFailed.contains(i.name()))
                .min(Comparator.comparingDouble(TrackedInstance::usdPerHour));
        if (stopped.isEmpty()) {
            return false;
        }
        TrackedInstance t = stopped.get();
        try {
            compute.handover().start(t.name(), CALLER, null);
        } catch (ComputeException e) {
            st.startFailed.add(t.name());
            st.record(now, "start_failed", reason + ": starting the stopped " + t.name() + " failed (" + e.getMessage()
                    + "); a new instance is launched next time instead", false);
            return true;
        }
        st.lastChangeMs = now;
        st.highSinceMs = -1;
        Replacements.counted(registry, p, t.provider(), replacing);
        st.record(now, Replacements.action(replacing), reason + ": started the stopped " + t.name() + " on "
                + t.provider(), false);
        publish(Replacements.event(replacing), p, "instance", t.name(), "provider", t.provider(), "reason", reason,
                "action", "start", "replaces", replacing);
        LOG.infof("Capacity: %s scaled out: started %s (%s)", p.recipe(), t.name(), reason);
        return true;
    }

    private void refused(CapacityPolicy p, PolicyState st, long now, LocalDate today, String reason, String why,
                         String provider) {
        st.refusedDay = today;
        registry.counter("gateway.compute.scale_refused", "recipe", p.recipe()).increment();
        st.record(now, "scale_refused", reason + ", but " + why + "; not tried again before the next UTC day or a"
                + " new policy", false);
        publish(EventTypes.COMPUTE_SCALE_REFUSED, p, "provider", provider, "reason", reason, "refusal", why);
        LOG.warnf("Capacity: %s scale-out refused: %s", p.recipe(), why);
    }

    private void scaleIn(CapacityPolicy p, PolicyState st, long now, List<TrackedInstance> ready, String reason) {
        Comparator<TrackedInstance> newest = Comparator.comparing(TrackedInstance::createdAt).reversed();
        Comparator<TrackedInstance> order = p.scaleInOrder() == CapacityPolicy.Order.NEWEST ? newest
                : Comparator.comparingDouble(TrackedInstance::usdPerHour).reversed().thenComparing(newest);
        TrackedInstance victim = ready.stream().min(order).orElseThrow();
        st.lastChangeMs = now;
        st.lowSinceMs = -1;
        boolean destroy = p.scaleInAction() == CapacityPolicy.ScaleIn.DESTROY;
        try {
            // Forced through the anti-stop guard: out of routing, drained by its open requests (up to the deadline),
            // then stopped or destroyed and confirmed by re-reading.
            long drainMs = p.drainDeadline().toMillis();
            if (destroy) {
                compute.handover().destroy(victim.name(), true, drainMs, CALLER, null);
            } else {
                compute.handover().stop(victim.name(), true, drainMs, CALLER, null);
            }
        } catch (ComputeException e) {
            st.record(now, "scale_in_failed", reason + ": " + (destroy ? "destroying " : "stopping ") + victim.name()
                    + " failed (" + e.getMessage() + ")", false);
            return;
        }
        registry.counter("gateway.compute.scale_in", "recipe", p.recipe()).increment();
        st.record(now, "scale_in", reason + ": " + (destroy ? "destroyed " : "stopped ") + victim.name() + " ("
                + p.scaleInOrder().name().toLowerCase(java.util.Locale.ROOT) + " first)", false);
        publish(EventTypes.COMPUTE_SCALE_IN, p, "instance", victim.name(), "provider", victim.provider(), "reason",
                reason, "action", destroy ? "destroy" : "stop");
        LOG.infof("Capacity: %s scaled in: %s (%s)", p.recipe(), victim.name(), reason);
    }

    /** Publishes {@code type} with the recipe and the given key, value pairs; a null value is left out. */
    private void publish(String type, CapacityPolicy p, Object... more) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("recipe", p.recipe());
        for (int k = 0; k + 1 < more.length; k += 2) {
            if (more[k + 1] != null) {
                data.put((String) more[k], more[k + 1]);
            }
        }
        events.accept(type, data);
    }

    /**
     * {@code GET /admin/compute/capacity}: each policy with its current and desired instances, the signal, the last
     * decisions with their reasons, and the projected spend for the rest of the UTC day against the daily cap.
     */
    public ObjectNode view() {
        ObjectNode answer = CapacityView.of(policies.values(), recipe -> states.computeIfAbsent(recipe,
                r -> new PolicyState()), compute, clock, leads.getAsBoolean());
        windows.annotate(answer, policies.values(), clock.instant());
        return answer;
    }

    static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

}

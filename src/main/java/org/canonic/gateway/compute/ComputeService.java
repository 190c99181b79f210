package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.ComputeConfig;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.coordination.Webhooks;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.state.SealedValues;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreConfig;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Governed compute: rents vLLM machines through a {@link ComputeProvider}, admits each launch by its estimated cost
 * ({@link Launcher}, {@link CostGuard}), tracks every action in {@link TrackedActions} (intent first), rebuilds its
 * state from them at start (reservations included), and hands the machines to the fleet once they serve. Provider calls block; callers are admin worker threads or the {@link ComputeWatch}'s blocking tasks.
 * Instance bookkeeping has one owner, {@link InstanceStates}, and its lock; provider calls are made outside it.
 */
@Singleton
public class ComputeService {

    private static final Logger LOG = Logger.getLogger(ComputeService.class);

    final ComputeConfig config;
    final Map<String, ComputeProvider> providers;
    final Recipes recipes;
    final CostGuard guard;
    final TrackedActions tracked;
    final InstanceKeys keys;
    final Fleet fleet;
    final Webhooks webhooks;
    final ObjectMapper mapper;
    final BackendHandover handover;
    final Launcher launcher;
    final CreateLookup lookup;
    final org.canonic.gateway.compute.runpod.RunPodServerless serverless;
    final ReadinessTimes readinessTimes;
    /** The watch's clock (deadlines, grace periods, spend); tests step their own. */
    volatile Clock clock = Clock.systemUTC();
    /** The one owner of the instances' bookkeeping and its lock. */
    final InstanceStates states = new InstanceStates(() -> clock.millis());
    private final List<java.util.function.Consumer<Interruption>> interruptionListeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The last entry of the shared tracked stream replayed here. */
    private String sharedCursor = "0";

    @Inject
    public ComputeService(GatewayConfig gateway, StateDirectory state, Fleet fleet, Webhooks webhooks,
                          ObjectMapper mapper, StateStore store, StateStoreConfig stateConfig) {
        this.config = gateway.compute();
        this.providers = Providers.build(config, mapper, System::getenv);
        this.serverless = Providers.serverless(config, mapper, System::getenv);
        this.recipes = new Recipes(config.recipes());
        // Several replicas must share the day's spend, or each would spend the whole cap; one gateway keeps it in
        // the state directory, or a restart would give the day's cap back.
        SpendLedger ledger = store.shared() ? new RedisSpendLedger(store) : new FileSpendLedger(state, mapper);
        this.guard = new CostGuard(ledger, config.warnUsd(), config.confirmUsd(), config.dailyCapUsd(), clock);
        this.tracked = new TrackedActions(state.resolve(TrackedActions.FILE), mapper, store);
        this.keys = new InstanceKeys(state.path(), store, sealing(store, stateConfig));
        this.fleet = fleet;
        this.webhooks = webhooks;
        this.mapper = mapper;
        this.handover = new BackendHandover(this);
        this.launcher = new Launcher(this);
        this.lookup = new CreateLookup(this);
        this.readinessTimes = new ReadinessTimes(state, mapper, store);
        rebuild();
    }

    /**
     * The seal of the instance keys replicas share through Redis. With the Redis store and a provider that has an
     * account key, the start is refused without {@code GATEWAY_STATE_KEY_FILE}: vLLM keys never sit in Redis in
     * the clear.
     */
    private SealedValues sealing(StateStore store, StateStoreConfig stateConfig) {
        Optional<String> file = stateConfig.keyFile().map(String::strip).filter(f -> !f.isEmpty());
        if (file.isPresent()) {
            return SealedValues.fromFile(file.get());
        }
        if (store.shared() && providers.values().stream().anyMatch(ComputeProvider::configured)) {
            throw new InvalidConfigurationException(List.of("GATEWAY_STATE_STORE=redis with governed compute needs"
                    + " GATEWAY_STATE_KEY_FILE (a mounted secret of 32+ random bytes, the same on every replica):"
                    + " the rented instances' vLLM keys are shared through Redis sealed with it, never in the clear"));
        }
        return null;
    }

    /** Current state from the tracked file; the watch then reconciles it with the providers. */
    private void rebuild() {
        for (JsonNode record : tracked.readAll()) {
            states.replay(record);
        }
        long now = clock.millis();
        states.all().forEach(i -> {
            if (i.state() == TrackedInstance.State.PROVISIONING) {
                // A crash between the intent and the provider's answer, or an ambiguous create still looked up:
                // the watch looks for its label for a whole window from now (the list may lag).
                i.lookupUntilMs = Math.max(i.lookupUntilMs, now + config.createLookupWindow().toMillis());
            }
            if (i.state() == TrackedInstance.State.WAITING) {
                i.readinessDeadlineMs = now + config.readinessDeadline().toMillis();
            }
            if (i.live() && i.lastIntent != null && INTERRUPTIBLE.contains(i.lastIntent)) {
                // Written before the provider was called, never followed by an outcome: the watch finishes it.
                i.interruptedAction = i.lastIntent;
            }
            if (i.live()) {
                restoreReservation(i);
            }
        });
        if (!states.isEmpty()) {
            List<TrackedInstance> rebuilt = states.all();
            LOG.infof("Compute: %d tracked instances rebuilt from %s (%d live)", rebuilt.size(), tracked.file(),
                    rebuilt.stream().filter(TrackedInstance::live).count());
        }
    }

    /** Actions an interrupted intent of which is finished at start; a provision is looked up instead. */
    private static final java.util.Set<String> INTERRUPTIBLE = java.util.Set.of("destroy", "stop", "start",
            "reconfigure");

    /**
     * Gives a live instance its reservation back: the one still open in the ledger under its name, else (a ledger
     * that never had it: an older gateway, or a crash between the two writes) a new one for its estimate on the day
     * it was launched, so that its destroy settles the cap with what it really cost.
     */
    private void restoreReservation(TrackedInstance i) {
        try {
            i.reservation = guard.ledger().open(i.name()).orElseGet(() -> guard.ledger().reserveOver(i.name(),
                    i.createdAt.atZone(java.time.ZoneOffset.UTC).toLocalDate(), i.estimateCents()));
        } catch (RuntimeException e) {
            LOG.errorf("Compute: the reservation of %s could not be restored (%s); its estimate may stay counted",
                    i.name(), e.toString());
        }
    }

    /**
     * Calls {@code listener} (on the watch's thread, leader only) for every serving instance lost without being
     * asked, after it left the fleet and was cleaned up: the capacity policies replace it from there.
     */
    public void onInterruption(java.util.function.Consumer<Interruption> listener) {
        interruptionListeners.add(listener);
    }

    void interrupted(Interruption interruption) {
        for (var listener : interruptionListeners) {
            try {
                listener.accept(interruption);
            } catch (RuntimeException e) {
                LOG.errorf("Compute: a listener of the interruption of %s failed: %s", interruption.instance(),
                        e.toString());
            }
        }
    }

    /** Tests only: a clock they step. */
    void clock(Clock clock) {
        this.clock = clock;
    }

    public ComputeProvider provider(String name) {
        ComputeProvider provider = name == null ? null : providers.get(name.toLowerCase(Locale.ROOT));
        if (provider == null) {
            throw new ComputeException(400, "invalid_provider", "provider must be one of " + providers.keySet()
                    + ".");
        }
        return provider;
    }

    public Map<String, ComputeProvider> providers() {
        return providers;
    }

    /** A RunPod serverless endpoint's workers and jobs, from its health API. */
    public ObjectNode serverlessHealth(String endpointId) {
        return serverless.health(endpointId);
    }

    public Recipes recipes() {
        return recipes;
    }

    /** The offers of one provider, best first. */
    public List<Offer> offers(String provider, ComputeProvider.OfferQuery query) {
        // The price ceiling is sent to the provider and applied here again: a provider that ignores the filter (or
        // prices with extras it leaves out of the filter) must not show an operator offers above what they asked.
        return provider(provider).offers(query).stream().filter(o -> query.maxUsdPerHour() == null
                || !(o.usdPerHour() > query.maxUsdPerHour())).toList();
    }

    /**
     * What a provision of {@code request} would cost now and what the cost guard would say, with nothing reserved
     * and nothing launched: the console shows it before the operator's first click.
     */
    public ObjectNode estimate(ProvisionRequest request) {
        return launcher.estimate(request);
    }

    /** Provisions one instance (see {@link Launcher}); an ambiguous failure is resolved by {@link CreateLookup}. */
    public ObjectNode provision(ProvisionRequest request, String caller, Long fencing) {
        return launcher.provision(request, caller, fencing);
    }

    /** Starts tracking a launch whose intent is written. */
    void track(TrackedInstance instance) {
        states.track(instance);
    }

    /** Replaces the instance's reservation with {@code actualCents} (0: released), once. */
    void settle(TrackedInstance t, long actualCents) {
        SpendLedger.Reservation held = states.locked(() -> {
            SpendLedger.Reservation reserved = t.reservation;
            t.reservation = null;
            return reserved;
        });
        try {
            if (held == null) {
                held = guard.ledger().open(t.name()).orElse(null);
            }
            if (held != null) {
                guard.ledger().settle(held, actualCents);
            }
        } catch (RuntimeException e) {
            LOG.errorf("Compute: the reservation of %s could not be settled (%s); its estimate stays counted",
                    t.name(), e.toString());
        }
    }

    /** The tracked instance by name (label) or by provider id. */
    public TrackedInstance find(String id) {
        return states.locked(() -> {
            syncShared();
            TrackedInstance byName = states.byName(id);
            if (byName != null) {
                return byName;
            }
            return states.byProviderId(id).orElseThrow(() -> new ComputeException(404, "instance_not_found",
                    "No tracked instance is named '" + OpenAiError.echo(id, 64) + "'."));
        });
    }

    public List<TrackedInstance> all() {
        return states.locked(() -> {
            syncShared();
            return states.all();
        });
    }

    /**
     * Replays what other replicas appended to the shared tracked stream since the last look, so that the leader
     * watches instances launched anywhere and every replica shows them. A store that does not answer leaves the
     * last known state (the watch retries next tick; a mutation is refused by the lock's guard first).
     */
    private void syncShared() {
        try {
            String before = sharedCursor;
            sharedCursor = states.replayShared(tracked, sharedCursor,
                    clock.millis() + config.readinessDeadline().toMillis());
            if (!sharedCursor.equals(before)) {
                // Keys of instances launched elsewhere, so that their registrations resolve here too.
                states.all().stream().filter(TrackedInstance::live).forEach(i -> keys.read(i.name()));
                // Keyed by instance in the shared ledger: the replica that destroys it settles what another reserved.
                states.all().stream().filter(i -> i.live() && i.reservation == null)
                        .forEach(i -> guard.ledger().open(i.name()).ifPresent(r -> i.reservation = r));
                fleet.retryShared();
            }
        } catch (StateStoreUnavailable e) {
            LOG.debugf("Compute: shared tracked stream unavailable: %s", e.getMessage());
        }
    }

    public BackendHandover handover() {
        return handover;
    }

    /** How long launches of each recipe and provider took to serve, as learned from the ones seen. */
    public ReadinessTimes readinessTimes() {
        return readinessTimes;
    }

    /** The admin view of one instance: never its key. */
    public ObjectNode view(TrackedInstance i) {
        return states.locked(() -> viewLocked(i));
    }

    private ObjectNode viewLocked(TrackedInstance i) {
        long now = clock.millis();
        ObjectNode v = mapper.createObjectNode();
        v.put("id", i.name());
        v.put("provider", i.provider());
        v.put("provider_id", i.providerId());
        v.put("recipe", i.recipe());
        recipes.find(i.recipe()).ifPresent(r -> v.put("route", r.route()).put("model", r.model()));
        v.put("state", i.state().name().toLowerCase(Locale.ROOT));
        v.put("provider_status", i.providerStatus);
        v.put("provider_message", i.message);
        v.put("failure", i.failure);
        v.put("offer", i.offerId());
        putUsd(v, "usd_per_hour", i.usdPerHour());
        putUsd(v, "stopped_usd_per_hour", i.stoppedUsdPerHour());
        v.put("estimate_usd", Double.parseDouble(CostGuard.usd(i.estimateCents())));
        v.put("tier", i.tier);
        v.put("planned_hours", Double.isNaN(i.hours()) ? null : i.hours());
        v.put("running_hours", round(i.runningHours(now), 4));
        v.put("spend_usd", round(i.spendUsd(now), 4));
        v.put("endpoint", i.endpoint);
        v.put("backend", fleet.find(i.name()).map(b -> b.name() + " (" + b.snapshot().state() + ")").orElse(null));
        if (i.idleStopMinutes() != null) {
            v.put("idle_stop_minutes", i.idleStopMinutes());
        }
        if (i.state() == TrackedInstance.State.WAITING) {
            v.put("readiness_deadline", java.time.Instant.ofEpochMilli(i.readinessDeadlineMs).toString());
        }
        if (i.unresponsiveSinceMs > 0) {
            // Failing its probes while the provider says it runs: lost once unresponsive-grace has passed.
            v.put("unresponsive_since", java.time.Instant.ofEpochMilli(i.unresponsiveSinceMs).toString());
        }
        if (i.cleanupPending != null) {
            v.put("cleanup_pending", i.cleanupPending); // a stop or destroy the provider refused, tried again
        }
        if (i.state() == TrackedInstance.State.PROVISIONING && i.lookupUntilMs > 0) {
            v.put("lookup_until", java.time.Instant.ofEpochMilli(i.lookupUntilMs).toString());
        }
        v.put("created_at", i.createdAt.toString());
        return v;
    }

    /** Spend today (UTC), per instance, and what stopped instances keep costing. */
    public ObjectNode spend() {
        return states.locked(this::spendLocked);
    }

    private ObjectNode spendLocked() {
        long now = clock.millis();
        ObjectNode answer = mapper.createObjectNode();
        answer.put("day", guard.today().toString());
        answer.put("committed_today_usd", Double.parseDouble(CostGuard.usd(guard.ledger().committed(guard.today()))));
        answer.put("daily_cap_usd", Double.parseDouble(CostGuard.usd(guard.capCents())));
        double total = 0;
        double storage = 0;
        ArrayNode list = answer.putArray("instances");
        for (TrackedInstance i : states.all()) {
            if (!i.live() && i.runningHours(now) == 0) {
                continue;
            }
            total += i.spendUsd(now);
            ObjectNode row = list.addObject().put("id", i.name()).put("provider", i.provider())
                    .put("state", i.state().name().toLowerCase(Locale.ROOT))
                    .put("running_hours", round(i.runningHours(now), 4)).put("spend_usd", round(i.spendUsd(now), 4));
            putUsd(row, "usd_per_hour", i.usdPerHour());
            if (i.state() == TrackedInstance.State.STOPPED) {
                putUsd(row, "stopped_usd_per_hour", i.stoppedUsdPerHour());
                storage += Double.isNaN(i.stoppedUsdPerHour()) ? 0 : i.stoppedUsdPerHour();
            }
        }
        answer.put("spend_usd", round(total, 4));
        answer.put("stopped_storage_usd_per_hour", round(storage, 4));
        answer.put("note", "Stopped is not free: storage keeps billing while stopped (RunPod volume $0.20/GB/month"
                + " stopped; Vast.ai storage_cost per GB/month). Destroy to stop all charges. Bandwidth is extra.");
        return answer;
    }

    /**
     * What the instance named {@code name} (its backend's name) cost within {@code [fromMs, toMs)}, or empty when no
     * instance of that name was rented here: the usage API shares it among the keys that used the instance.
     */
    public java.util.OptionalDouble spendUsd(String name, long fromMs, long toMs) {
        return states.locked(() -> {
            TrackedInstance i = states.byName(name);
            return i == null ? java.util.OptionalDouble.empty()
                    : java.util.OptionalDouble.of(i.spendUsd(fromMs, toMs, clock.millis()));
        });
    }

    /** Publishes a compute event: the instance and provider, never a key. */
    void event(String type, TrackedInstance i, Long fencing, Object... more) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("instance", i.name());
        data.put("provider", i.provider());
        data.put("provider_id", i.providerId());
        data.put("recipe", i.recipe());
        if (fencing != null) {
            data.put("lock_fencing", fencing);
        }
        for (int k = 0; k + 1 < more.length; k += 2) {
            data.put((String) more[k], more[k + 1]);
        }
        webhooks.publish(type, data);
    }

    private static void putUsd(ObjectNode node, String field, double value) {
        if (Double.isNaN(value)) {
            node.putNull(field);
        } else {
            node.put(field, round(value, 4));
        }
    }

    static double round(double value, int places) {
        double scale = Math.pow(10, places);
        return Math.round(value * scale) / scale;
    }

}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.ComputeConfig;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.coordination.Webhooks;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Governed compute: rents vLLM machines through a {@link ComputeProvider}, admits each launch by its estimated cost,
 * tracks every action in {@link TrackedActions} (intent first), and hands the machines to the fleet once they
 * serve. Provider calls block; callers are admin worker threads or the {@link ComputeWatch}'s blocking tasks.
 * Instance bookkeeping is guarded by {@code this}; provider calls are made outside it where they can be slow.
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
    final org.canonic.gateway.compute.runpod.RunPodServerless serverless;
    final Clock clock = Clock.systemUTC();
    private final Map<String, TrackedInstance> instances = new LinkedHashMap<>();
    /** The last entry of the shared tracked stream replayed here. */
    private String sharedCursor = "0";

    @Inject
    public ComputeService(GatewayConfig gateway, StateDirectory state, Fleet fleet, Webhooks webhooks,
                          ObjectMapper mapper, StateStore store) {
        this.config = gateway.compute();
        this.providers = Providers.build(config, mapper, System::getenv);
        this.serverless = Providers.serverless(config, mapper, System::getenv);
        this.recipes = new Recipes(config.recipes());
        // Several replicas must share the day's spend, or each would spend the whole cap; one gateway keeps it in
        // the state directory, or a restart would give the day's cap back.
        SpendLedger ledger = store.shared() ? new RedisSpendLedger(store) : new FileSpendLedger(state, mapper);
        this.guard = new CostGuard(ledger, config.warnUsd(), config.confirmUsd(), config.dailyCapUsd(), clock);
        this.tracked = new TrackedActions(state.resolve(TrackedActions.FILE), mapper, store);
        this.keys = new InstanceKeys(state.path(), store);
        this.fleet = fleet;
        this.webhooks = webhooks;
        this.mapper = mapper;
        this.handover = new BackendHandover(this);
        rebuild();
    }

    /** Current state from the tracked file; the watch then reconciles it with the providers. */
    private void rebuild() {
        for (JsonNode record : tracked.readAll()) {
            TrackedInstance.replay(instances, record);
        }
        long now = clock.millis();
        instances.values().forEach(i -> {
            // A crash between the intent and the provider's answer: the watch looks it up by label.
            i.unresolvedIntent = i.state() == TrackedInstance.State.PROVISIONING;
            if (i.state() == TrackedInstance.State.WAITING) {
                i.readinessDeadlineMs = now + config.readinessDeadline().toMillis();
            }
            if (i.live()) {
                restoreReservation(i);
            }
        });
        if (!instances.isEmpty()) {
            LOG.infof("Compute: %d tracked instances rebuilt from %s (%d live)", instances.size(), tracked.file(),
                    instances.values().stream().filter(TrackedInstance::live).count());
        }
    }

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
        return provider(provider).offers(query);
    }

    /** What one launch would be: the provider, the recipe, the offer read now and its estimate. */
    private record Quote(ComputeProvider provider, Recipe recipe, Offer offer, long cents, String text) {
    }

    private Quote quote(ProvisionRequest request) {
        ComputeProvider provider = provider(request.provider());
        Recipe recipe = recipes.find(request.recipe()).orElseThrow(() -> new ComputeException(400,
                "invalid_recipe", "recipe must be one of " + recipes.all().keySet() + "."));
        if (!provider.configured()) {
            provider.list(); // throws the clear "no API key" error
        }
        Offer offer = provider.offerForLaunch(recipe, request.offerId());
        if (Double.isNaN(offer.usdPerHour()) || offer.usdPerHour() <= 0) {
            throw new ComputeException(502, "provider_bad_answer", provider.name() + " gave no price for offer "
                    + offer.id() + "; the gateway never guesses one.");
        }
        double storageUsd = provider instanceof org.canonic.gateway.compute.runpod.RunPodProvider
                ? recipe.diskGb() * 0.10 / 730.0 * request.hours() : 0;
        long estimateCents = CostGuard.cents(offer.usdPerHour() * request.hours() + storageUsd);
        String estimateText = String.format(Locale.ROOT, "$%.4f/h x %s h + storage $%.2f = $%s", offer.usdPerHour(),
                stripZeros(request.hours()), storageUsd, CostGuard.usd(estimateCents));
        return new Quote(provider, recipe, offer, estimateCents, estimateText);
    }

    /**
     * What a provision of {@code request} would cost now and what the cost guard would say, with nothing reserved
     * and nothing launched: the console shows it before the operator's first click.
     */
    public ObjectNode estimate(ProvisionRequest request) {
        Quote quote = quote(request);
        ObjectNode answer = guard.preview(quote.cents());
        answer.put("provider", quote.provider().name());
        answer.put("recipe", quote.recipe().name());
        answer.put("offer", quote.offer().id());
        answer.put("usd_per_hour", quote.offer().usdPerHour());
        answer.put("hours", request.hours());
        answer.put("estimate", quote.text());
        return answer;
    }

    /**
     * Provisions one instance: offer read now, estimate, admission, intent recorded, then the provider called.
     * After an ambiguous failure the instance is looked up by label and destroyed before the error is reported,
     * so a retry never doubles the bill.
     */
    public ObjectNode provision(ProvisionRequest request, String caller, Long fencing) {
        Quote quote = quote(request);
        ComputeProvider provider = quote.provider();
        Recipe recipe = quote.recipe();
        Offer offer = quote.offer();
        long estimateCents = quote.cents();
        String estimateText = quote.text();
        String name = "mg-" + recipe.name() + "-" + config.gatewayId() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        CostGuard.Admission admission = guard.admit(name, estimateCents, request.confirmEstimateUsd(), estimateText);
        TrackedInstance instance = new TrackedInstance(name, provider.name(), recipe.name());
        instance.offerId = offer.id();
        instance.usdPerHour = offer.usdPerHour();
        instance.stoppedUsdPerHour = provider.stoppedUsdPerHour(recipe, offer);
        instance.estimateCents = estimateCents;
        instance.hours = request.hours();
        instance.idleStopMinutes = request.idleStopMinutes();
        instance.tier = admission.tier().name().toLowerCase(Locale.ROOT);
        instance.reservation = admission.reservation();
        String key;
        try {
            key = keys.create(name);
        } catch (IOException e) {
            release(admission);
            throw new ComputeException(503, "state_unavailable", "The instance key could not be written to the"
                    + " state directory; nothing was launched.");
        }
        ObjectNode intent = tracked.record(caller, instance, "provision", fencing);
        intent.put("tier", instance.tier);
        intent.put("estimate", estimateText);
        try {
            tracked.append(intent, "intent", null, TrackedInstance.State.PROVISIONING);
        } catch (RuntimeException e) {
            release(admission);
            keys.delete(name);
            throw e;
        }
        synchronized (this) {
            instances.put(name, instance);
        }
        try {
            instance.providerId = provider.create(recipe, offer, name, key);
        } catch (ComputeException e) {
            Cleanup cleanup = e.ambiguous() ? cleanUpAfterAmbiguousCreate(provider, instance, e, caller, fencing)
                    : new Cleanup("", true);
            release(admission);
            keys.delete(name);
            // Nothing left at the provider: the instance is over (DESTROYED); unconfirmed: FAILED, so it stays
            // visible and the leak watch keeps looking for it.
            TrackedInstance.State end = cleanup.confirmed() ? TrackedInstance.State.DESTROYED
                    : TrackedInstance.State.FAILED;
            synchronized (this) {
                instance.moveTo(end, clock.millis());
                instance.failure = e.getMessage() + cleanup.text();
            }
            ObjectNode failed = tracked.record(caller, instance, "provision", fencing);
            failed.put("failure", instance.failure);
            tracked.append(failed, e.code(), instance.failure, end);
            throw new ComputeException(e.status(), e.code(), instance.failure, e.details(), false);
        }
        synchronized (this) {
            instance.moveTo(TrackedInstance.State.WAITING, clock.millis());
            instance.readinessDeadlineMs = clock.millis() + (request.readinessDeadlineSeconds() != null
                    ? request.readinessDeadlineSeconds() * 1000L : config.readinessDeadline().toMillis());
        }
        tracked.append(tracked.record(caller, instance, "provision", fencing), "ok", null,
                TrackedInstance.State.WAITING);
        event(EventTypes.COMPUTE_PROVISIONED, instance, fencing, "estimate_usd", CostGuard.usd(estimateCents), "tier",
                instance.tier);
        LOG.infof("Compute: provisioned %s on %s (id %s, offer %s, %s)", name, provider.name(), instance.providerId,
                offer.id(), estimateText);
        ObjectNode answer = mapper.createObjectNode();
        answer.put("estimate", estimateText);
        answer.put("estimate_usd", Double.parseDouble(CostGuard.usd(estimateCents)));
        answer.put("tier", instance.tier);
        if (admission.warning() != null) {
            answer.put("warning", admission.warning());
        }
        answer.set("instance", view(instance));
        return answer;
    }

    /** What the cleanup after an ambiguous create did, and whether nothing is left for sure. */
    private record Cleanup(String text, boolean confirmed) {
    }

    /** Finds and destroys whatever a create that failed ambiguously may have left; says what it did. */
    private Cleanup cleanUpAfterAmbiguousCreate(ComputeProvider provider, TrackedInstance instance,
                                               ComputeException failure, String caller, Long fencing) {
        try {
            String id = failure.details() != null && failure.details().hasNonNull("new_contract")
                    ? failure.details().get("new_contract").asText() : null;
            if (id == null) {
                id = provider.list().stream().filter(i -> instance.name().equals(i.label())).map(InstanceInfo::id)
                        .findFirst().orElse(null);
            }
            if (id == null) {
                return new Cleanup(" Looked up by label " + instance.name() + ": nothing was created.", true);
            }
            instance.providerId = id;
            ObjectNode intent = tracked.record(caller, instance, "destroy", fencing);
            tracked.append(intent, "intent", "created despite the error", TrackedInstance.State.PROVISIONING);
            provider.destroy(id);
            tracked.append(tracked.record(caller, instance, "destroy", fencing), "ok", null,
                    TrackedInstance.State.DESTROYED);
            return new Cleanup(" Instance " + id + " had been created despite the error and was destroyed.", true);
        } catch (ComputeException e) {
            LOG.errorf("Compute: cleanup of %s after an ambiguous create failed: %s", instance.name(), e.getMessage());
            return new Cleanup(" The gateway could not confirm that nothing was created (" + e.getMessage()
                    + "); the leak watch will report it if it bills.", false);
        }
    }

    private void release(CostGuard.Admission admission) {
        if (admission.reservation() != null) {
            guard.ledger().release(admission.reservation());
        }
    }

    /** The tracked instance by name (label) or by provider id. */
    public synchronized TrackedInstance find(String id) {
        syncShared();
        TrackedInstance byName = instances.get(id);
        if (byName != null) {
            return byName;
        }
        return instances.values().stream().filter(i -> id.equals(i.providerId())).reduce((a, b) -> b)
                .orElseThrow(() -> new ComputeException(404, "instance_not_found", "No tracked instance is named '"
                        + OpenAiError.echo(id, 64) + "'."));
    }

    public synchronized List<TrackedInstance> all() {
        syncShared();
        return List.copyOf(instances.values());
    }

    /**
     * Replays what other replicas appended to the shared tracked stream since the last look, so that the leader
     * watches instances launched anywhere and every replica shows them. A store that does not answer leaves the
     * last known state (the watch retries next tick; a mutation is refused by the lock's guard first).
     */
    private void syncShared() {
        try {
            String before = sharedCursor;
            sharedCursor = tracked.replayShared(sharedCursor, instances,
                    clock.millis() + config.readinessDeadline().toMillis());
            if (!sharedCursor.equals(before)) {
                // Keys of instances launched elsewhere, so that their registrations resolve here too.
                instances.values().stream().filter(TrackedInstance::live).forEach(i -> keys.read(i.name()));
                // Keyed by instance in the shared ledger: the replica that destroys it settles what another reserved.
                instances.values().stream().filter(i -> i.live() && i.reservation == null)
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

    /** The admin view of one instance: never its key. */
    public synchronized ObjectNode view(TrackedInstance i) {
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
        v.put("created_at", i.createdAt.toString());
        return v;
    }

    /** Spend today (UTC), per instance, and what stopped instances keep costing. */
    public synchronized ObjectNode spend() {
        long now = clock.millis();
        ObjectNode answer = mapper.createObjectNode();
        answer.put("day", guard.today().toString());
        answer.put("committed_today_usd", Double.parseDouble(CostGuard.usd(guard.ledger().committed(guard.today()))));
        answer.put("daily_cap_usd", Double.parseDouble(CostGuard.usd(guard.capCents())));
        double total = 0;
        double storage = 0;
        ArrayNode list = answer.putArray("instances");
        for (TrackedInstance i : instances.values()) {
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

    private static String stripZeros(double value) {
        return java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
}

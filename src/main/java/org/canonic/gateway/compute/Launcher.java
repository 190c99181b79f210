package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.compute.runpod.RunPodProvider;
import org.canonic.gateway.coordination.EventTypes;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.Locale;
import java.util.UUID;

/**
 * One launch, from the quote to the provider's answer: the offer read now and its estimate, admission (every launch
 * reserves against the day's cap), the intent written before the provider is called, then the create. A create that
 * fails is ambiguous unless the request certainly never reached the provider: the reservation is kept and
 * {@link CreateLookup} finds out what exists under the label. Anything else that fails after admission releases the
 * reservation, so a launch that created nothing never uses up the cap.
 */
final class Launcher {

    private static final Logger LOG = Logger.getLogger(Launcher.class);

    private final ComputeService s;

    Launcher(ComputeService service) {
        this.s = service;
    }

    /** What one launch would be: the provider, the recipe, the offer read now and its estimate. */
    record Quote(ComputeProvider provider, Recipe recipe, Offer offer, long cents, String text) {
    }

    Quote quote(ProvisionRequest request) {
        ComputeProvider provider = s.provider(request.provider());
        Recipe recipe = s.recipes.find(request.recipe()).orElseThrow(() -> new ComputeException(400,
                "invalid_recipe", "recipe must be one of " + s.recipes.all().keySet() + "."));
        if (!provider.configured()) {
            provider.list(); // throws the clear "no API key" error
        }
        Offer offer = provider.offerForLaunch(recipe, request.offerId());
        if (Double.isNaN(offer.usdPerHour()) || offer.usdPerHour() <= 0) {
            throw new ComputeException(502, "provider_bad_answer", provider.name() + " gave no price for offer "
                    + offer.id() + "; the gateway never guesses one.");
        }
        double storageUsd = provider instanceof RunPodProvider ? recipe.diskGb() * 0.10 / 730.0 * request.hours() : 0;
        long estimateCents = CostGuard.cents(offer.usdPerHour() * request.hours() + storageUsd);
        String estimateText = String.format(Locale.ROOT, "$%.4f/h x %s h + storage $%.2f = $%s", offer.usdPerHour(),
                java.math.BigDecimal.valueOf(request.hours()).stripTrailingZeros().toPlainString(), storageUsd,
                CostGuard.usd(estimateCents));
        return new Quote(provider, recipe, offer, estimateCents, estimateText);
    }

    /** The estimate and the cost guard's verdict, nothing reserved, nothing launched. */
    ObjectNode estimate(ProvisionRequest request) {
        Quote quote = quote(request);
        ObjectNode answer = s.guard.preview(quote.cents());
        answer.put("provider", quote.provider().name());
        answer.put("recipe", quote.recipe().name());
        answer.put("offer", quote.offer().id());
        answer.put("usd_per_hour", quote.offer().usdPerHour());
        answer.put("hours", request.hours());
        answer.put("estimate", quote.text());
        return answer;
    }

    ObjectNode provision(ProvisionRequest request, String caller, Long fencing) {
        Quote quote = quote(request);
        String name = "mg-" + quote.recipe().name() + "-" + s.config.gatewayId() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        CostGuard.Admission admission = s.guard.admit(name, quote.cents(), request.confirmEstimateUsd(),
                quote.text());
        TrackedInstance instance = new TrackedInstance(name, quote.provider().name(), quote.recipe().name());
        instance.offerId = quote.offer().id();
        instance.usdPerHour = quote.offer().usdPerHour();
        instance.stoppedUsdPerHour = quote.provider().stoppedUsdPerHour(quote.recipe(), quote.offer());
        instance.estimateCents = quote.cents();
        instance.hours = request.hours();
        instance.idleStopMinutes = request.idleStopMinutes();
        instance.tier = admission.tier().name().toLowerCase(Locale.ROOT);
        instance.reservation = admission.reservation();
        String key;
        InstanceTls.Identity tls = null;
        try {
            key = s.keys.create(name);
            if (quote.provider().servesOwnTls() && s.config.instanceTls()) {
                tls = InstanceTls.create(name, s.clock.instant());
                s.keys.saveCertificate(name, tls.certificatePem());
            }
            ObjectNode intent = s.tracked.record(caller, instance, "provision", fencing);
            intent.put("tier", instance.tier);
            intent.put("estimate", quote.text());
            s.tracked.append(intent, "intent", null, TrackedInstance.State.PROVISIONING);
        } catch (IOException | RuntimeException e) {
            // Nothing was sent: the provider has not heard of this launch, so nothing of it may stay reserved.
            s.guard.ledger().release(admission.reservation());
            s.keys.delete(name);
            if (e instanceof IOException) {
                throw new ComputeException(503, "state_unavailable", "The instance key could not be written to the"
                        + " state directory; nothing was launched.");
            }
            if (e instanceof IllegalArgumentException) {
                throw new ComputeException(500, "invalid_instance_name", "'" + name + "' is not a valid instance"
                        + " label (a-z, 0-9, '-'); check GATEWAY_ID and the recipe names. Nothing was launched.");
            }
            throw (RuntimeException) e;
        }
        s.track(instance);
        try {
            instance.providerId = quote.provider().create(quote.recipe(), quote.offer(), name, key, tls);
        } catch (RuntimeException thrown) {
            ComputeException e = thrown instanceof ComputeException c ? c : new ComputeException(502,
                    "provider_bad_answer", instance.provider() + " answered the create in a way the gateway could not"
                    + " read (" + thrown.getClass().getSimpleName() + ").", null, true);
            if (CreateLookup.neverSent(e)) {
                notCreated(instance, e, caller, fencing);
                throw e;
            }
            if (!s.lookup.afterAmbiguousCreate(instance, quote.provider(), e, caller, fencing)) {
                throw new ComputeException(e.status(), e.code(), instance.message, details(instance), false);
            }
            return launched(instance, quote, admission, fencing, quote.provider().name() + " answered with an"
                    + " error (" + e.getMessage() + "), but an instance with the launch's label was found and adopted.");
        }
        s.states.waiting(instance, s.clock.millis() + (request.readinessDeadlineSeconds() != null
                ? request.readinessDeadlineSeconds() * 1000L : s.config.readinessDeadline().toMillis()));
        s.tracked.append(s.tracked.record(caller, instance, "provision", fencing), "ok", null,
                TrackedInstance.State.WAITING);
        return launched(instance, quote, admission, fencing, null);
    }

    private ObjectNode launched(TrackedInstance instance, Quote quote, CostGuard.Admission admission, Long fencing,
                                String adopted) {
        s.event(EventTypes.COMPUTE_PROVISIONED, instance, fencing, "estimate_usd", CostGuard.usd(quote.cents()),
                "tier", instance.tier, "adopted", adopted != null);
        LOG.infof("Compute: provisioned %s on %s (id %s, offer %s, %s)%s", instance.name(), instance.provider(),
                instance.providerId(), quote.offer().id(), quote.text(), adopted == null ? "" : "; " + adopted);
        ObjectNode answer = s.mapper.createObjectNode();
        answer.put("estimate", quote.text());
        answer.put("estimate_usd", Double.parseDouble(CostGuard.usd(quote.cents())));
        answer.put("tier", instance.tier);
        String warning = adopted == null ? admission.warning() : admission.warning() == null ? adopted
                : admission.warning() + " " + adopted;
        if (warning != null) {
            answer.put("warning", warning);
        }
        if (adopted != null) {
            answer.put("adopted", true);
        }
        answer.set("instance", s.view(instance));
        return answer;
    }

    /** The create never reached the provider (no key, no connection): closed at once, its reservation released. */
    private void notCreated(TrackedInstance instance, ComputeException e, String caller, Long fencing) {
        s.guard.ledger().release(instance.reservation);
        s.keys.delete(instance.name());
        s.states.update(instance, i -> {
            i.reservation = null;
            i.moveTo(TrackedInstance.State.DESTROYED, s.clock.millis());
            i.failure = e.getMessage() + " The request never reached the provider: nothing was created.";
        });
        ObjectNode failed = s.tracked.record(caller, instance, "provision", fencing);
        failed.put("failure", instance.failure);
        s.tracked.append(failed, e.code(), instance.failure, TrackedInstance.State.DESTROYED);
    }

    private ObjectNode details(TrackedInstance instance) {
        ObjectNode details = s.mapper.createObjectNode();
        details.put("instance", instance.name());
        details.put("state", "provisioning");
        details.put("estimate_usd", Double.parseDouble(CostGuard.usd(instance.estimateCents())));
        return details;
    }
}

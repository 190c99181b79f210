package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.Offer;
import org.canonic.gateway.compute.ProvisionRequest;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.coordination.EventTypes;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * What {@link CapacityController} decided, carried out: a scale-out (a stopped instance started, else the cheapest
 * offer launched through the cost guard, provider by provider; a refusal recorded once for the UTC day) or a
 * scale-in through the anti-stop guard, each recorded in the policy's state, counted and announced. The controller
 * decides when; this class knows how.
 */
final class CapacityActions {

    private static final Logger LOG = Logger.getLogger(CapacityController.class);

    private final ComputeService compute;
    private final Clock clock;
    private final BiConsumer<String, Map<String, Object>> events;
    private final MeterRegistry registry;
    private final LaunchChoice choice;

    CapacityActions(ComputeService compute, Clock clock, BiConsumer<String, Map<String, Object>> events,
                    MeterRegistry registry, LaunchChoice choice) {
        this.compute = compute;
        this.clock = clock;
        this.events = events;
        this.registry = registry;
        this.choice = choice;
    }

    /**
     * {@code launches} scale-outs of one decision, one by one; the first that launches nothing (refused and reported
     * once, failed, no offer) ends the batch. All are stamped {@code now}: one change for the cooldowns.
     */
    void scaleOut(CapacityPolicy p, PolicyState st, long now, String reason, int launches) {
        for (int k = 1; k <= launches; k++) {
            if (!scaleOut(p, st, now, launches == 1 ? reason : reason + " [" + k + " of " + launches + "]")) {
                return;
            }
        }
    }

    boolean scaleOut(CapacityPolicy p, PolicyState st, long now, String reason) {
        return scaleOut(p, st, now, reason, null);
    }

    /**
     * @param replacing the lost instance this launch replaces, or null for a scale-out on the signal or minimum
     * @return whether an instance was launched or started (false: refused, failed or no offer; a batch stops there)
     */
    boolean scaleOut(CapacityPolicy p, PolicyState st, long now, String reason, String replacing) {
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        if (today.equals(st.refusedDay)) {
            return false; // reported once already; tried again on the next UTC day or after a new policy
        }
        st.lastOutAttemptMs = now;
        Boolean started = startStopped(p, st, now, reason, replacing);
        if (started != null) {
            return started;
        }
        StringBuilder none = new StringBuilder();
        for (String provider : p.providers()) {
            if (!choice.configured(provider)) {
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
            if (!LaunchChoice.automatic(tier)) {
                refused(p, st, now, today, reason, "the cost guard would need a human confirmation (tier " + tier
                        + ", estimate $" + preview.path("estimate_usd").asText() + ", committed today $"
                        + preview.path("committed_today_usd").asText() + " of $"
                        + preview.path("daily_cap_usd").asText() + ")", provider);
                return false;
            }
            try {
                ObjectNode launched = compute.provision(request, CapacityController.CALLER, null);
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
                return true;
            } catch (ComputeException e) {
                if (e.status() == 402 || e.status() == 409 && "daily_cap_exceeded".equals(e.code())) {
                    refused(p, st, now, today, reason, e.getMessage(), provider);
                } else {
                    // Not tried on the next provider: an ambiguous create is looked up by its label first.
                    st.record(now, "launch_failed", reason + ": " + provider + " answered " + e.code() + " ("
                            + e.getMessage() + "); tried again after the scale-out cooldown", false);
                }
            }
            return false;
        }
        st.record(now, "hold", reason + ", but no provider has an offer: " + none.toString().strip(), true);
        return false;
    }

    /**
     * Starts the cheapest instance of the recipe a scale-in stopped (or any stopped one on the policy's providers)
     * rather than renting another: it still bills its storage and its estimate is still reserved, so a new launch
     * beside it would pay twice. One whose start failed is passed over from then on (a new launch is made instead).
     *
     * @return null when none is stopped, else whether the start succeeded
     */
    private Boolean startStopped(CapacityPolicy p, PolicyState st, long now, String reason, String replacing) {
        Optional<TrackedInstance> stopped = compute.all().stream()
                .filter(i -> p.recipe().equals(i.recipe()) && i.state() == TrackedInstance.State.STOPPED
                        && p.providers().contains(i.provider()) && !st.startFailed.contains(i.name()))
                .min(Comparator.comparingDouble(TrackedInstance::usdPerHour));
        if (stopped.isEmpty()) {
            return null;
        }
        TrackedInstance t = stopped.get();
        try {
            compute.handover().start(t.name(), CapacityController.CALLER, null);
        } catch (ComputeException e) {
            st.startFailed.add(t.name());
            st.record(now, "start_failed", reason + ": starting the stopped " + t.name() + " failed (" + e.getMessage()
                    + "); a new instance is launched next time instead", false);
            return false;
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

    void scaleIn(CapacityPolicy p, PolicyState st, long now, List<TrackedInstance> ready, String reason) {
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
                compute.handover().destroy(victim.name(), true, drainMs, CapacityController.CALLER, null);
            } else {
                compute.handover().stop(victim.name(), true, drainMs, CapacityController.CALLER, null);
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
}

package org.canonic.gateway.capacity;

import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeProvider;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.Offer;
import org.canonic.gateway.compute.ProvisionRequest;
import org.canonic.gateway.compute.TrackedInstance;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the providers and the cost guard say a launch for a policy could be, read only: whether the provider lists
 * answer, the cheapest offer meeting the constraints, the tiers an automatic launch may use, and (for a request
 * waking a route) the provider a scale-out would use now. {@link CapacityController#scaleOut} launches from the same
 * answers, so a request is never promised capacity the controller would not launch.
 */
final class LaunchChoice {

    private final ComputeService compute;

    LaunchChoice(ComputeService compute) {
        this.compute = compute;
    }

    boolean configured(String provider) {
        ComputeProvider p = compute.providers().get(provider);
        return p != null && p.configured();
    }

    /**
     * The first provider list that fails among the policy's providers and those of its instances, as a reason; null
     * when every list answered in a shape the provider client accepts.
     */
    String failedList(CapacityPolicy p, List<TrackedInstance> active) {
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

    /** The cheapest offer of {@code provider} meeting the policy's constraints ({@link CheapestOffer}). */
    Optional<Offer> cheapest(CapacityPolicy p, String provider) {
        return CheapestOffer.of(compute, p, provider);
    }

    /** The tiers an automatic launch may use: never one that needs a human confirmation. */
    static boolean automatic(String tier) {
        return tier.equals("auto") || tier.equals("warn");
    }

    /**
     * The provider a scale-out of {@code p} would use now, as {@link CapacityController#scaleOut} would choose it, with
     * nothing launched: a stopped instance to start, else the first provider with an offer meeting the constraints
     * that the cost guard admits without a human. Empty when it would launch nothing (refused today, at
     * max_instances, a provider list failing, no offer, a guard that refuses).
     */
    Optional<String> plan(CapacityPolicy p, PolicyState st, boolean refusedToday, List<TrackedInstance> active) {
        if (refusedToday || active.size() >= p.maxInstances() || failedList(p, active) != null) {
            return Optional.empty();
        }
        Optional<TrackedInstance> stopped = compute.all().stream().filter(i -> p.recipe().equals(i.recipe())
                && i.state() == TrackedInstance.State.STOPPED && p.providers().contains(i.provider())
                && !st.startFailed.contains(i.name())).findFirst();
        if (stopped.isPresent()) {
            return Optional.of(stopped.get().provider());
        }
        for (String provider : p.providers()) {
            try {
                Optional<Offer> offer = configured(provider) ? cheapest(p, provider) : Optional.empty();
                if (offer.isPresent() && automatic(compute.estimate(new ProvisionRequest(provider, p.recipe(),
                        p.plannedHours(), offer.get().id(), null, null, null)).path("tier").asText())) {
                    return Optional.of(provider);
                }
                if (offer.isPresent()) {
                    return Optional.empty(); // scaleOut stops at the first offer the guard refuses
                }
            } catch (ComputeException e) {
                // as scaleOut: the next provider
            }
        }
        return Optional.empty();
    }
}

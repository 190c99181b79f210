package org.canonic.gateway.capacity;

import org.canonic.gateway.compute.ComputeProvider;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.Offer;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The offer a policy's scale-out rents on one provider. */
final class CheapestOffer {

    private CheapestOffer() {
    }

    /** The cheapest offer of {@code provider} meeting the policy's constraints, checked here again. */
    static Optional<Offer> of(ComputeService compute, CapacityPolicy p, String provider) {
        List<Offer> offers = compute.offers(provider, new ComputeProvider.OfferQuery(p.gpu(), null, p.minVramGb(),
                p.maxUsdPerHour(), null, null, null));
        return offers.stream()
                .filter(o -> Double.isFinite(o.usdPerHour()) && o.usdPerHour() > 0)
                .filter(o -> p.maxUsdPerHour() == null || o.usdPerHour() <= p.maxUsdPerHour())
                .filter(o -> p.minVramGb() == null || o.vramGb() >= p.minVramGb())
                .filter(o -> p.gpu() == null || o.gpuName() == null || o.gpuName().equalsIgnoreCase(p.gpu())
                        || o.gpuName().toLowerCase(Locale.ROOT).contains(p.gpu().toLowerCase(Locale.ROOT)))
                .min(Comparator.comparingDouble(Offer::usdPerHour));
    }
}

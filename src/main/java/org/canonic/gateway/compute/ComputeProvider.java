package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Optional;

/**
 * A GPU provider the gateway rents vLLM machines from. Every method calls the provider and either answers what it
 * said or throws {@link ComputeException}: a call that fails or answers an unexpected shape is an error, never an
 * empty answer ("nothing is running" must only ever come from the provider saying so).
 */
public interface ComputeProvider {

    /** The name used in the admin API and the tracked file: {@code vastai} or {@code runpod}. */
    String name();

    /** Whether an API key can be resolved. */
    boolean configured();

    /** Offers matching the filters, best first. */
    List<Offer> offers(OfferQuery query);

    /** The offer a launch would rent, read now (never a cached or guessed price); null id = the best match. */
    Offer offerForLaunch(Recipe recipe, String offerId);

    /** Creates an instance; answers the provider's id. */
    String create(Recipe recipe, Offer offer, String label, String vllmKey);

    /** What it can do; code asks this rather than the provider's name. */
    default ProviderCapabilities capabilities() {
        return ProviderCapabilities.MACHINES;
    }

    /**
     * Whether its machines are reached over the internet on an address of their own, so the gateway must make
     * the encryption itself: a TLS identity per instance, served by vLLM and pinned by the backend's client
     * (Vast.ai). False where the provider's own HTTPS already fronts them (RunPod's proxy).
     */
    default boolean servesOwnTls() {
        return capabilities().ownTls();
    }

    /** Creates an instance serving vLLM over TLS with {@code tls}; providers that do not serve their own TLS ignore it. */
    default String create(Recipe recipe, Offer offer, String label, String vllmKey, InstanceTls.Identity tls) {
        return create(recipe, offer, label, vllmKey);
    }

    /** One instance; empty when the provider says it is gone. */
    Optional<InstanceInfo> get(String id);

    /** Every instance of the account, all pages. */
    List<InstanceInfo> list();

    /** {@code running} or {@code stopped}, confirmed by re-reading; throws if the change did not apply. */
    void setState(String id, boolean running);

    /** Destroys it; one already gone counts as destroyed. */
    void destroy(String id);

    /** Provider-side stop guard (RunPod {@code locked}); a no-op where the provider has none. */
    default void lock(String id, boolean locked) {
    }

    /** Changes the vLLM arguments in place (keeping the machine). */
    void reconfigure(String id, Recipe recipe, String vllmKey, List<String> extraArgs);

    /** The same for an instance launched with its own TLS identity ({@link #servesOwnTls}), which it keeps. */
    default void reconfigure(String id, Recipe recipe, String vllmKey, List<String> extraArgs, boolean tls) {
        reconfigure(id, recipe, vllmKey, extraArgs);
    }

    /** $/h of storage while stopped for the recipe's disk (stopped is not free). */
    double stoppedUsdPerHour(Recipe recipe, Offer offer);

    /** Describes the provider for views: base URL and where the key comes from (never the key). */
    ObjectNode describe();

    /** The filters of an offer search; null = not filtered. */
    record OfferQuery(String gpu, Integer numGpus, Double minVramGb, Double maxUsdPerHour, Double minReliability,
                      Boolean verified, Integer diskGb) {
    }
}

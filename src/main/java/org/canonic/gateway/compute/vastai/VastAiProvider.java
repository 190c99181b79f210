package org.canonic.gateway.compute.vastai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeProvider;
import org.canonic.gateway.compute.InstanceInfo;
import org.canonic.gateway.compute.InstanceTls;
import org.canonic.gateway.compute.Offer;
import org.canonic.gateway.compute.ProviderCapabilities;
import org.canonic.gateway.compute.ProviderHttp;
import org.canonic.gateway.compute.Recipe;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Vast.ai (console.vast.ai). Lists through {@code GET /api/v1/instances/} (paged) because the v0 list answers 410;
 * everything else is v0. A {@code {"success":true}} is not trusted: state changes and destroys are confirmed by
 * re-reading the instance.
 */
public final class VastAiProvider implements ComputeProvider {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(VastAiProvider.class);

    public static final String NAME = "vastai";
    /** Pages of 25; a bound keeps a provider that never stops paging from hanging a reconcile. */
    private static final int MAX_PAGES = 200;

    private final ProviderHttp http;
    private final ObjectMapper mapper;
    private final int confirmReads;
    private final long confirmDelayMs;

    public VastAiProvider(ProviderHttp http, ObjectMapper mapper, int confirmReads, long confirmDelayMs) {
        this.http = http;
        this.mapper = mapper;
        this.confirmReads = confirmReads;
        this.confirmDelayMs = confirmDelayMs;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean configured() {
        return http.keys().resolve().isPresent();
    }

    @Override
    public List<Offer> offers(OfferQuery query) {
        ObjectNode q = mapper.createObjectNode();
        // The CLI's defaults; rented=false keeps the machines of our own stopped instances out.
        q.putObject("verified").put("eq", query.verified() == null || query.verified());
        q.putObject("external").put("eq", false);
        q.putObject("rentable").put("eq", true);
        q.putObject("rented").put("eq", false);
        if (query.gpu() != null) {
            ArrayNode names = q.putObject("gpu_name").putArray("in");
            for (String gpu : query.gpu().split(",")) {
                names.add(gpu.strip().replace('_', ' '));
            }
        }
        q.putObject("num_gpus").put("eq", query.numGpus() == null ? 1 : query.numGpus());
        if (query.minVramGb() != null) {
            // gpu_ram is MB; 1000 per GB, as Vast's own examples do (a "24 GB" card reports about 24576).
            q.putObject("gpu_ram").put("gte", Math.round(query.minVramGb() * 1000));
        }
        q.putObject("reliability2").put("gte", query.minReliability() == null ? 0.95 : query.minReliability());
        // Port 8000 must be reachable directly; offers without direct ports only expose SSH.
        q.putObject("direct_port_count").put("gte", 1);
        if (query.maxUsdPerHour() != null) {
            q.putObject("dph_total").put("lte", query.maxUsdPerHour());
        }
        q.putArray("order").addArray().add("dph_total").add("asc");
        q.put("type", "on-demand");
        q.put("limit", 50);
        q.put("allocated_storage", query.diskGb() == null ? 64 : query.diskGb());
        ProviderHttp.Reply reply = http.send("POST", "/api/v0/bundles/", q, "searching offers");
        if (!reply.ok()) {
            throw http.unexpected(reply, "searching offers");
        }
        JsonNode offers = reply.json() == null ? null : reply.json().get("offers");
        if (offers == null || !offers.isArray()) {
            throw oddShape("searching offers", "no offers array");
        }
        List<Offer> result = new ArrayList<>();
        offers.forEach(o -> result.add(offer(o)));
        // Cheapest first; among equal prices the more reliable, then the one with more VRAM.
        result.sort(Comparator.comparingDouble(Offer::usdPerHour)
                .thenComparing(Comparator.comparingDouble(Offer::reliability).reversed())
                .thenComparing(Comparator.comparingDouble(Offer::vramGb).reversed()));
        return result;
    }

    @Override
    public Offer offerForLaunch(Recipe recipe, String offerId) {
        List<Offer> offers = offers(new OfferQuery(null, 1, recipe.minVramGb(), null, null, true, recipe.diskGb()));
        if (offerId == null) {
            return offers.stream().findFirst().orElseThrow(() -> new ComputeException(409, "no_offer",
                    "Vast.ai has no offer matching recipe '" + recipe.name() + "' (" + recipe.minVramGb()
                            + " GB VRAM or more, verified, direct ports) right now."));
        }
        return offers.stream().filter(o -> o.id().equals(offerId)).findFirst().orElseThrow(() ->
                new ComputeException(409, "offer_unavailable", "Vast.ai offer " + offerId + " is not rentable now"
                        + " (taken, or not matching the recipe's filters); search offers again."));
    }

    /**
     * Stop and start; no provider-side stop guard; its own TLS (a rented host is reached across the internet on its
     * own address: plain HTTP would show prompts); launches are on-demand ({@code price: null}), never bids.
     */
    private static final ProviderCapabilities CAPABILITIES = new ProviderCapabilities(true, false, true, false,
            false);

    @Override
    public ProviderCapabilities capabilities() {
        return CAPABILITIES;
    }

    @Override
    public String create(Recipe recipe, Offer offer, String label, String vllmKey) {
        return create(recipe, offer, label, vllmKey, null);
    }

    /**
     * Rents {@code offer}. With {@code tls}, the machine serves vLLM over TLS: {@code runtype:"ssh"} with an
     * {@code onstart} script that writes the identity from the environment and starts vLLM with it (the only way
     * to put files on a Vast.ai machine at launch; {@code runtype:"args"} runs the image's entrypoint with no
     * shell). Without it (kept for tests of the wire format), {@code runtype:"args"} and plain HTTP.
     */
    @Override
    public String create(Recipe recipe, Offer offer, String label, String vllmKey, InstanceTls.Identity tls) {
        ObjectNode body = mapper.createObjectNode();
        body.put("client_id", "me");
        body.put("image", recipe.vastaiImage());
        body.put("disk", recipe.diskGb());
        body.put("label", label);
        ObjectNode env;
        if (tls == null) {
            body.put("runtype", "args");
            ArrayNode args = body.putArray("args");
            recipe.vastaiArgs(vllmKey, List.of()).forEach(args::add);
            env = body.putObject("env");
            body.putNull("onstart");
        } else {
            body.put("runtype", "ssh");
            env = body.putObject("env");
            env.put("MG_TLS_CERT", tls.certificatePem());
            env.put("MG_TLS_KEY", tls.privateKeyPem());
            body.put("onstart", recipe.vastaiTlsOnstart(vllmKey, List.of()));
        }
        recipe.vastaiEnv().forEach(env::put);
        body.putNull("image_login");
        body.putNull("price");
        body.put("cancel_unavail", true);
        body.put("target_state", "running");
        body.put("force", false);
        String what = "creating an instance from offer " + offer.id();
        ProviderHttp.Reply reply = http.sendOnce("PUT", "/api/v0/asks/" + enc(offer.id()) + "/", body, what);
        JsonNode json = reply.json();
        if (reply.ok() && json != null && json.path("success").asBoolean(false)
                && json.path("new_contract").canConvertToLong()) {
            return json.get("new_contract").asText();
        }
        if (json != null && json.path("new_contract").canConvertToLong()) {
            // An error that still created something (dstack saw bids created stopped): hand its id back for cleanup.
            throw new ComputeException(502, "provider_error", "Vast.ai reported an error while " + what + " but"
                    + " created instance " + json.get("new_contract").asText() + ": " + ProviderHttp.message(reply),
                    json, true);
        }
        throw http.unexpected(reply, what);
    }

    @Override
    public Optional<InstanceInfo> get(String id) {
        String what = "reading instance " + id;
        ProviderHttp.Reply reply = http.send("GET", "/api/v0/instances/" + enc(id) + "/?owner=me", null, what);
        if (reply.status() == 404 && !ProviderHttp.isAuthError(reply)) {
            // Not the contract: a destroyed instance is 200 {"instances": null}. A 404 (an HTML page from a proxy, a
            // moved API) says nothing about the instance; read as "gone", it once deleted a healthy loading one.
            throw new ComputeException(502, "provider_bad_answer", "Vast.ai answered 404 while " + what + " ("
                    + ProviderHttp.message(reply) + "); only {\"instances\": null} means gone, so this is an error to"
                    + " retry, not a destroyed instance.");
        }
        if (!reply.ok()) {
            throw http.unexpected(reply, what);
        }
        if (reply.json() == null || !reply.json().has("instances")) {
            throw oddShape(what, "no instances field");
        }
        JsonNode instance = reply.json().get("instances");
        if (instance.isNull()) {
            return Optional.empty();
        }
        if (instance.isArray()) {
            if (instance.size() != 1) {
                throw oddShape(what, "instances is a list of " + instance.size());
            }
            instance = instance.get(0);
        }
        if (!instance.isObject()) {
            throw oddShape(what, "instances is neither an object nor null");
        }
        return Optional.of(VastInstances.info(instance, mapper));
    }

    @Override
    public List<InstanceInfo> list() {
        List<InstanceInfo> all = new ArrayList<>();
        String after = null;
        for (int page = 0; page < MAX_PAGES; page++) {
            String query = "/api/v1/instances/?order_by=" + enc("[{\"col\":\"id\",\"dir\":\"asc\"}]") + "&limit=25"
                    + (after == null ? "" : "&after_token=" + enc(after));
            ProviderHttp.Reply reply = http.send("GET", query, null, "listing instances");
            if (!reply.ok()) {
                throw http.unexpected(reply, "listing instances");
            }
            JsonNode instances = reply.json() == null ? null : reply.json().get("instances");
            if (instances == null || !instances.isArray()) {
                // Fail closed: an odd answer must never read as "nothing is running" (SkyPilot #10517).
                throw oddShape("listing instances", "no instances array");
            }
            instances.forEach(i -> all.add(VastInstances.info(i, mapper)));
            JsonNode next = reply.json().get("next_token");
            if (next == null || next.isNull() || next.asText().isEmpty() || instances.isEmpty()) {
                return all;
            }
            after = next.asText();
        }
        throw oddShape("listing instances", "more than " + MAX_PAGES + " pages");
    }

    @Override
    public void setState(String id, boolean running) {
        String target = running ? "running" : "stopped";
        String what = (running ? "starting" : "stopping") + " instance " + id;
        ObjectNode body = mapper.createObjectNode().put("state", target);
        ProviderHttp.Reply reply = http.send("PUT", "/api/v0/instances/" + enc(id) + "/", body, what);
        if (!reply.ok() || reply.json() == null || !reply.json().path("success").asBoolean(false)) {
            throw http.unexpected(reply, what);
        }
        // {"success":true} does not always apply: re-read until the instance says so.
        for (int read = 0; read < confirmReads; read++) {
            Optional<InstanceInfo> now = get(id);
            if (now.isEmpty()) {
                throw new ComputeException(502, "instance_gone", "Vast.ai instance " + id + " is gone while "
                        + what + ".");
            }
            if (now.get().providerStatus().contains("intended=" + target)) {
                return;
            }
            ProviderHttp.sleep(confirmDelayMs);
        }
        throw new ComputeException(502, "state_not_applied", "Vast.ai answered success to " + what
                + " but the instance did not change (re-read " + confirmReads + " times); it was not "
                + (running ? "started" : "stopped") + ".");
    }

    @Override
    public void destroy(String id) {
        String what = "destroying instance " + id;
        ProviderHttp.Reply reply = http.send("DELETE", "/api/v0/instances/" + enc(id) + "/",
                mapper.createObjectNode(), what);
        String error = ProviderHttp.text(reply.json(), "error");
        boolean gone = "no_such_instance".equals(error) || ("" + ProviderHttp.message(reply)).contains(
                "no_such_instance");
        if (!gone && (!reply.ok() || reply.json() == null || !reply.json().path("success").asBoolean(false))) {
            throw http.unexpected(reply, what);
        }
        // Confirmed only when the instance reads as gone and the list no longer has it: one broken read must not
        // be enough to call a billing machine destroyed.
        for (int read = 0; read < confirmReads; read++) {
            try {
                if (get(id).isEmpty() && list().stream().noneMatch(i -> id.equals(i.id()))) {
                    return;
                }
            } catch (ComputeException e) {
                LOG.infof("Vast.ai: confirming the destroy of %s: %s", id, e.getMessage());
            }
            ProviderHttp.sleep(confirmDelayMs);
        }
        throw new ComputeException(502, "destroy_not_confirmed", "Vast.ai answered success to " + what
                + " but the instance could not be confirmed gone (still listed, or the confirming reads failed); it"
                + " may still bill. Check and destroy it again.");
    }

    @Override
    public void reconfigure(String id, Recipe recipe, String vllmKey, List<String> extraArgs) {
        reconfigure(id, recipe, vllmKey, extraArgs, false);
    }

    @Override
    public void reconfigure(String id, Recipe recipe, String vllmKey, List<String> extraArgs, boolean tls) {
        // update_template recreates the container with new args but keeps the machine (and its GPU priority). A TLS
        // instance gets a new onstart; its identity stays in the instance's environment, which is not resent.
        ObjectNode body = mapper.createObjectNode();
        body.put("id", Long.parseLong(id));
        if (tls) {
            body.put("onstart", recipe.vastaiTlsOnstart(vllmKey, extraArgs));
        } else {
            ArrayNode args = body.putArray("args");
            recipe.vastaiArgs(vllmKey, extraArgs).forEach(args::add);
        }
        String what = "changing the vLLM arguments of instance " + id;
        ProviderHttp.Reply reply = http.send("PUT", "/api/v0/instances/update_template/" + enc(id) + "/", body,
                what);
        if (!reply.ok() || reply.json() == null || !reply.json().path("success").asBoolean(false)) {
            throw http.unexpected(reply, what);
        }
    }

    @Override
    public double stoppedUsdPerHour(Recipe recipe, Offer offer) {
        return offer == null ? Double.NaN : offer.storageUsdPerGbMonth() * recipe.diskGb() / 730.0;
    }

    @Override
    public ObjectNode describe() {
        return mapper.createObjectNode().put("provider", NAME).put("api_url", http.baseUrl())
                .put("configured", configured()).put("api_key_from", http.keys().describe());
    }

    private Offer offer(JsonNode o) {
        return new Offer(NAME, o.path("id").asText(), o.path("gpu_name").asText(null), o.path("num_gpus").asInt(1),
                o.path("gpu_ram").asDouble(0) / 1000.0, o.path("dph_total").asDouble(Double.NaN),
                o.path("reliability2").asDouble(o.path("reliability").asDouble(0)),
                o.path("storage_cost").asDouble(0), o.isObject() ? (ObjectNode) o : mapper.createObjectNode());
    }

    private static ComputeException oddShape(String what, String detail) {
        return new ComputeException(502, "provider_bad_answer", "Vast.ai gave an unexpected answer while " + what
                + " (" + detail + "); treated as an error, not as an empty answer.");
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}

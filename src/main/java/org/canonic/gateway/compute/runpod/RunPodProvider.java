package org.canonic.gateway.compute.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeProvider;
import org.canonic.gateway.compute.InstanceInfo;
import org.canonic.gateway.compute.Offer;
import org.canonic.gateway.compute.ProviderCapabilities;
import org.canonic.gateway.compute.ProviderHttp;
import org.canonic.gateway.compute.Recipe;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * RunPod pods through REST v2 ({@code /v2/pods}); v1 is retired. Errors are RFC 9457 ({@code title}, {@code detail}).
 * Port 8000 is reached through RunPod's HTTPS proxy ({@code https://{id}-8000.proxy.runpod.net}, a configurable
 * template), only once the pod is RUNNING.
 */
public final class RunPodProvider implements ComputeProvider {

    public static final String NAME = "runpod";
    /** Container disk $0.10/GB/month; volume $0.20/GB/month while stopped (docs pods/storage). */
    static final double STOPPED_VOLUME_USD_PER_GB_MONTH = 0.20;
    static final double DISK_USD_PER_GB_MONTH = 0.10;

    private final ProviderHttp http;
    private final ObjectMapper mapper;
    private final String proxyTemplate;
    private final int confirmReads;
    private final long confirmDelayMs;

    public RunPodProvider(ProviderHttp http, ObjectMapper mapper, String proxyTemplate, int confirmReads,
                          long confirmDelayMs) {
        this.http = http;
        this.mapper = mapper;
        this.proxyTemplate = proxyTemplate;
        this.confirmReads = confirmReads;
        this.confirmDelayMs = confirmDelayMs;
    }

    /**
     * Stop and start; the {@code locked} stop guard; RunPod's HTTPS proxy fronts the pods; REST v2 creates no spot
     * pods (GraphQL only), so launches are on-demand.
     */
    private static final ProviderCapabilities CAPABILITIES = new ProviderCapabilities(true, true, false, false,
            false);

    @Override
    public ProviderCapabilities capabilities() {
        return CAPABILITIES;
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
        int count = query.numGpus() == null ? 1 : query.numGpus();
        ProviderHttp.Reply reply = http.send("GET", "/v2/catalog/gpus?include=AVAILABILITY&product=POD&count="
                + count + "&cloud=SECURE", null, "reading the GPU catalog");
        if (!reply.ok()) {
            throw http.unexpected(reply, "reading the GPU catalog");
        }
        JsonNode gpus = reply.json();
        if (gpus != null && gpus.isObject()) {
            gpus = gpus.has("gpus") ? gpus.get("gpus") : gpus.get("data");
        }
        if (gpus == null || !gpus.isArray()) {
            throw oddShape("reading the GPU catalog", "no list of GPU types");
        }
        List<Offer> offers = new ArrayList<>();
        for (JsonNode gpu : gpus) {
            double perGpu = price(gpu.path("price").path("secure"));
            if (Double.isNaN(perGpu) || perGpu <= 0) {
                continue;
            }
            String id = gpu.path("id").asText();
            double memory = gpu.path("memory").asDouble(0);
            double usdPerHour = perGpu * count;
            if (query.gpu() != null && !id.toLowerCase(Locale.ROOT).contains(query.gpu().toLowerCase(Locale.ROOT))
                    || query.minVramGb() != null && memory < query.minVramGb()
                    || query.maxUsdPerHour() != null && usdPerHour > query.maxUsdPerHour()) {
                continue;
            }
            offers.add(new Offer(NAME, id, gpu.path("name").asText(id), count, memory, usdPerHour, 1.0,
                    DISK_USD_PER_GB_MONTH, (ObjectNode) gpu));
        }
        offers.sort(Comparator.comparingDouble(Offer::usdPerHour)
                .thenComparing(Comparator.comparingDouble(Offer::vramGb).reversed()));
        return offers;
    }

    @Override
    public Offer offerForLaunch(Recipe recipe, String offerId) {
        String gpu = offerId != null ? offerId : recipe.runpodGpu();
        List<Offer> offers = offers(new OfferQuery(null, 1, offerId == null ? recipe.minVramGb() : null, null,
                null, null, recipe.diskGb()));
        return offers.stream().filter(o -> gpu == null || o.id().equals(gpu)).findFirst().orElseThrow(() ->
                new ComputeException(409, "offer_unavailable", "RunPod has no priced GPU type "
                        + (gpu == null ? "matching recipe '" + recipe.name() + "'" : "'" + gpu + "'") + " now."));
    }

    @Override
    public String create(Recipe recipe, Offer offer, String label, String vllmKey) {
        ObjectNode body = mapper.createObjectNode();
        body.put("name", label);
        body.put("image", recipe.runpodImage());
        body.putObject("gpu").put("id", offer.id()).put("count", offer.numGpus());
        body.put("cloud", "SECURE");
        body.put("disk", recipe.diskGb());
        body.putArray("ports").add("8000/http");
        body.put("args", recipe.runpodArgs(vllmKey, List.of()));
        ObjectNode env = body.putObject("env");
        recipe.runpodEnv().forEach(env::put);
        String what = "creating a pod on " + offer.id();
        // Once: a pod created before a 502 would be created again by a retry, under the same name.
        ProviderHttp.Reply reply = http.sendOnce("POST", "/v2/pods", body, what);
        if ((reply.status() == 201 || reply.status() == 200) && reply.json() != null
                && reply.json().hasNonNull("id")) {
            return reply.json().get("id").asText();
        }
        if (reply.status() == 400) {
            throw new ComputeException(503, "provider_no_capacity", "RunPod refused " + what + ": "
                    + ProviderHttp.message(reply) + " (often no capacity; try another GPU type).");
        }
        throw http.unexpected(reply, what);
    }

    @Override
    public Optional<InstanceInfo> get(String id) {
        String what = "reading pod " + id;
        ProviderHttp.Reply reply = http.send("GET", "/v2/pods/" + enc(id), null, what);
        if (reply.status() == 404) {
            // Gone only as the API says it: its RFC 9457 problem with status 404. An HTML page (a proxy, an outage)
            // says nothing about the pod; read as "gone", a serving pod would be forgotten while it bills.
            if (reply.json() != null && reply.json().path("status").asInt() == 404) {
                return Optional.empty();
            }
            throw new ComputeException(502, "provider_bad_answer", "RunPod answered 404 without its problem body"
                    + " while " + what + "; treated as an error to retry, not as a terminated pod.");
        }
        if (!reply.ok()) {
            throw http.unexpected(reply, what);
        }
        if (reply.json() == null || !reply.json().isObject() || !reply.json().has("status")) {
            throw oddShape(what, "not a pod");
        }
        InstanceInfo info = info(reply.json());
        return "TERMINATED".equals(reply.json().path("status").asText()) ? Optional.empty() : Optional.of(info);
    }

    @Override
    public List<InstanceInfo> list() {
        ProviderHttp.Reply reply = http.send("GET", "/v2/pods", null, "listing pods");
        if (!reply.ok()) {
            throw http.unexpected(reply, "listing pods");
        }
        JsonNode pods = reply.json() == null || !reply.json().isObject() ? null : reply.json().get("pods");
        if (pods == null || !pods.isArray()) {
            // v1 answered a bare array; v2 wraps it. Anything else fails closed, never "no pods".
            throw oddShape("listing pods", "no pods array");
        }
        List<InstanceInfo> all = new ArrayList<>();
        pods.forEach(p -> {
            if (!"TERMINATED".equals(p.path("status").asText())) {
                all.add(info(p));
            }
        });
        return all;
    }

    @Override
    public void setState(String id, boolean running) {
        action(id, running ? "start" : "stop");
        for (int read = 0; read < confirmReads; read++) {
            Optional<InstanceInfo> now = get(id);
            if (now.isEmpty()) {
                throw new ComputeException(502, "instance_gone", "RunPod pod " + id + " is gone.");
            }
            InstanceInfo.Status status = now.get().status();
            if (running ? status != InstanceInfo.Status.STOPPED : status == InstanceInfo.Status.STOPPED) {
                return;
            }
            ProviderHttp.sleep(confirmDelayMs);
        }
        throw new ComputeException(502, "state_not_applied", "RunPod accepted " + (running ? "start" : "stop")
                + " of pod " + id + " but the pod did not change; it was not " + (running ? "started" : "stopped")
                + ".");
    }

    @Override
    public void destroy(String id) {
        String what = "terminating pod " + id;
        ProviderHttp.Reply reply = http.send("DELETE", "/v2/pods/" + enc(id), null, what);
        if (!reply.ok() && reply.status() != 404) {
            throw http.unexpected(reply, what);
        }
        for (int read = 0; read < confirmReads; read++) {
            if (get(id).isEmpty()) {
                return;
            }
            ProviderHttp.sleep(confirmDelayMs);
        }
        throw new ComputeException(502, "destroy_not_confirmed", "RunPod accepted " + what
                + " but the pod is still there; it may still bill.");
    }

    @Override
    public void lock(String id, boolean locked) {
        patch(id, mapper.createObjectNode().put("locked", locked), (locked ? "locking" : "unlocking") + " pod " + id);
    }

    @Override
    public void reconfigure(String id, Recipe recipe, String vllmKey, List<String> extraArgs) {
        patch(id, mapper.createObjectNode().put("args", recipe.runpodArgs(vllmKey, extraArgs)),
                "changing the vLLM arguments of pod " + id);
        action(id, "restart");
    }

    @Override
    public double stoppedUsdPerHour(Recipe recipe, Offer offer) {
        return recipe.diskGb() * STOPPED_VOLUME_USD_PER_GB_MONTH / 730.0;
    }

    @Override
    public ObjectNode describe() {
        return mapper.createObjectNode().put("provider", NAME).put("api_url", http.baseUrl())
                .put("configured", configured()).put("api_key_from", http.keys().describe())
                .put("proxy_url_template", proxyTemplate);
    }

    private void action(String id, String action) {
        String what = action + " of pod " + id;
        ProviderHttp.Reply reply = http.send("POST", "/v2/pods/" + enc(id) + "/action",
                mapper.createObjectNode().put("action", action), what);
        if (reply.status() == 409) {
            throw new ComputeException(409, "provider_action_not_allowed", "RunPod does not allow " + what
                    + " in its current status: " + ProviderHttp.message(reply) + ".");
        }
        if (!reply.ok()) {
            throw http.unexpected(reply, what);
        }
    }

    private void patch(String id, ObjectNode body, String what) {
        ProviderHttp.Reply reply = http.send("PATCH", "/v2/pods/" + enc(id), body, what);
        if (!reply.ok()) {
            throw http.unexpected(reply, what);
        }
    }

    private InstanceInfo info(JsonNode pod) {
        String status = pod.path("status").asText("");
        InstanceInfo.Status mapped = switch (status) {
            case "RUNNING" -> InstanceInfo.Status.RUNNING;
            case "PROVISIONING", "STARTING" -> InstanceInfo.Status.STARTING;
            case "EXITED" -> InstanceInfo.Status.STOPPED;
            case "ERROR" -> InstanceInfo.Status.FAILED;
            default -> InstanceInfo.Status.UNKNOWN;
        };
        String id = pod.path("id").asText();
        return new InstanceInfo(id, pod.path("name").asText(null), mapped, "status=" + status
                + (pod.path("locked").asBoolean(false) ? " locked" : ""), null,
                mapped == InstanceInfo.Status.RUNNING ? proxyTemplate.replace("{id}", id) : null,
                price(pod.path("cost")));
    }

    /** Prices come as numbers, sometimes as strings ("0.74"). */
    private static double price(JsonNode value) {
        if (value.isNumber()) {
            return value.asDouble();
        }
        if (value.isTextual()) {
            try {
                return Double.parseDouble(value.asText().strip());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    private static ComputeException oddShape(String what, String detail) {
        return new ComputeException(502, "provider_bad_answer", "RunPod gave an unexpected answer while " + what
                + " (" + detail + "); treated as an error, not as an empty answer.");
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}

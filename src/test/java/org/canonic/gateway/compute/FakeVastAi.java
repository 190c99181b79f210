package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake Vast.ai API on loopback, quirks included: the v0 list answers 410 {@code deprecated_endpoint}; the v1 list
 * pages 25 rows with {@code next_token}; one instance comes under the plural key, {@code null} when gone;
 * {@code HostPort} is a string and {@code public_ipaddr} carries whitespace; a wrong key answers 404
 * {@code auth_error}; a state change can answer {@code {"success":true}} without applying.
 */
public final class FakeVastAi extends FakeProviderServer {

    private static final Pattern ASK = Pattern.compile("/api/v0/asks/([^/]+)/");
    private static final Pattern ONE = Pattern.compile("/api/v0/instances/([0-9]+)/");
    private static final Pattern TEMPLATE = Pattern.compile("/api/v0/instances/update_template/([0-9]+)/");

    public final List<ObjectNode> offers = new ArrayList<>();
    public final Map<String, ObjectNode> instances = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong(7_835_600);
    /** The host port new instances map 8000/tcp to (a FakeVllm's port). */
    public volatile int instancePort;
    /** The actual_status new instances report. */
    public volatile String createdStatus = "running";
    public volatile String createdMessage;
    /** False: state changes answer success and change nothing. */
    public volatile boolean stateChangesApply = true;
    /** Creates at once but answers only after this long (a create that times out yet happened). */
    public volatile long createAnswerDelayMs;
    /** The v1 list answers this raw body instead (an odd shape). */
    public volatile String listOverride;
    /** A read of one instance answers 404 with this raw body (an HTML error page) instead of the contract. */
    public volatile String readNotFoundBody;
    /** Called with every accepted create body before it is answered: the fake machine taking its launch config. */
    public volatile java.util.function.Consumer<ObjectNode> onCreate;
    /** The list keeps showing destroyed instances this many more times (a list that lags). */
    public final java.util.concurrent.atomic.AtomicInteger listLagsAfterDestroy = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<String, ObjectNode> recentlyDestroyed = new ConcurrentHashMap<>();
    /** Non-zero: a create creates, then answers this status (a provider error after acting). */
    public volatile int createAnswerStatus;
    private final Map<String, Long> createdMs = new ConcurrentHashMap<>();
    /** What this fake bills for the machines it rents, on its clock (see {@link ProviderBilling}). */
    public final ProviderBilling billing = new ProviderBilling();

    public FakeVastAi(Vertx vertx, String key) {
        super(vertx, key);
    }

    public static ObjectNode offer(long id, String gpu, int gpuRamMb, double dph, double reliability) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", id).put("gpu_name", gpu).put("num_gpus", 1).put("gpu_ram", gpuRamMb).put("dph_total", dph)
                .put("reliability2", reliability).put("storage_cost", 0.15).put("direct_port_count", 4)
                .put("geolocation", "US");
        return o;
    }

    /** An instance the gateway did not create (a leak). */
    public ObjectNode addInstance(String label, String status) {
        String id = Long.toString(ids.incrementAndGet());
        ObjectNode i = MAPPER.createObjectNode();
        i.put("id", Long.parseLong(id)).put("label", label).put("actual_status", status)
                .put("intended_status", status).put("dph_total", 0.3);
        instances.put(id, i);
        createdMs.put(id, System.currentTimeMillis());
        return i;
    }

    @Override
    public void reset() {
        super.reset();
        offers.clear();
        instances.clear();
        createdStatus = "running";
        createdMessage = null;
        stateChangesApply = true;
        listOverride = null;
        readNotFoundBody = null;
        onCreate = null;
        listLagsAfterDestroy.set(0);
        recentlyDestroyed.clear();
        createAnswerDelayMs = 0;
        createAnswerStatus = 0;
        createdMs.clear();
        billing.reset();
    }

    /** Makes {@code id} look outbid: stopped by the provider, intended stopped too (how Vast.ai shows it). */
    public void outbid(String id) {
        instances.get(id).put("actual_status", "stopped").put("intended_status", "stopped")
                .put("cur_state", "stopped").put("next_state", "stopped");
    }

    /**
     * Makes {@code id}'s container exit unexpectedly while the user still intends it running ({@code actual_status}
     * {@code exited}, {@code intended_status} {@code running}); the storage still bills.
     */
    public void exit(String id) {
        instances.get(id).put("actual_status", "exited").put("intended_status", "running")
                .put("status_msg", "container exited with code 137");
    }

    @Override
    void handle(HttpServerRequest request, Received r) {
        if (!("Bearer " + key).equals(r.authorization())) {
            json(request, 404, Map.of("success", false, "error", "auth_error", "msg", "Invalid user key"));
            return;
        }
        String path = r.path();
        Matcher m;
        if (r.method().equals("POST") && path.equals("/api/v0/bundles/")) {
            ObjectNode answer = MAPPER.createObjectNode();
            answer.putArray("offers").addAll(offers);
            json(request, 200, answer);
        } else if (r.method().equals("GET") && path.equals("/api/v0/instances/")) {
            json(request, 410, Map.of("success", false, "error", "deprecated_endpoint", "msg",
                    "/api/v0/instances/ is deprecated. Use /api/v1/instances/ instead."));
        } else if (r.method().equals("GET") && path.equals("/api/v1/instances/")) {
            list(request, r);
        } else if (r.method().equals("PUT") && (m = ASK.matcher(path)).matches()) {
            create(request, r, m.group(1));
        } else if (r.method().equals("PUT") && (m = TEMPLATE.matcher(path)).matches()) {
            ObjectNode i = instances.get(m.group(1));
            if (i != null) {
                i.set("image_args", r.body().get("args"));
            }
            json(request, 200, Map.of("success", i != null));
        } else if ((m = ONE.matcher(path)).matches()) {
            one(request, r, m.group(1));
        } else {
            json(request, 404, Map.of("success", false, "error", "not_found"));
        }
    }

    private void list(HttpServerRequest request, Received r) {
        if (listOverride != null) {
            request.response().setStatusCode(200).end(listOverride);
            return;
        }
        List<ObjectNode> all = new ArrayList<>(instances.values().stream()
                .filter(i -> listed(createdMs.get(i.path("id").asText()))).toList());
        if (!recentlyDestroyed.isEmpty() && listLagsAfterDestroy.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            all.addAll(recentlyDestroyed.values());
        } else {
            recentlyDestroyed.clear();
        }
        all.sort((a, b) -> Long.compare(a.path("id").asLong(), b.path("id").asLong()));
        long after = 0;
        String query = r.query() == null ? "" : r.query();
        for (String part : query.split("&")) {
            if (part.startsWith("after_token=")) {
                after = Long.parseLong(part.substring(12));
            }
        }
        final long from = after;
        List<ObjectNode> page = all.stream().filter(i -> i.path("id").asLong() > from).limit(25).toList();
        ObjectNode answer = MAPPER.createObjectNode();
        answer.putArray("instances").addAll(page);
        boolean more = all.stream().filter(i -> i.path("id").asLong() > from).count() > 25;
        if (more) {
            answer.put("next_token", page.get(page.size() - 1).path("id").asText());
        } else {
            answer.putNull("next_token");
        }
        answer.put("total_instances", all.size());
        json(request, 200, answer);
    }

    private void create(HttpServerRequest request, Received r, String offerId) {
        ObjectNode offer = offers.stream().filter(o -> o.path("id").asText().equals(offerId)).findFirst()
                .orElse(null);
        if (offer == null) {
            json(request, 404, Map.of("success", false, "error", "no_such_ask", "msg", "offer gone"));
            return;
        }
        java.util.function.Consumer<ObjectNode> hook = onCreate;
        if (hook != null) {
            hook.accept((ObjectNode) r.body()); // the machine starts with what the launch gave it (e.g. its TLS identity)
        }
        String id = Long.toString(ids.incrementAndGet());
        ObjectNode i = MAPPER.createObjectNode();
        i.put("id", Long.parseLong(id)).put("label", r.body().path("label").asText())
                .put("actual_status", createdStatus).put("intended_status", "running").put("cur_state", "running")
                // "{args}" in the message stands for the container's command line, as Docker errors echo it.
                .put("status_msg", createdMessage == null ? null : createdMessage.replace("{args}",
                        String.join(" ", argsOf(r.body()))))
                .put("dph_total", offer.path("dph_total").asDouble())
                .put("public_ipaddr", " 127.0.0.1\n");
        ObjectNode ports = i.putObject("ports");
        ArrayNode mapping = ports.putArray("8000/tcp");
        mapping.addObject().put("HostIp", "0.0.0.0").put("HostPort", Integer.toString(instancePort));
        i.set("image_args", r.body().get("args"));
        instances.put(id, i);
        createdMs.put(id, System.currentTimeMillis());
        // Vast.ai bills from the create on (a loading machine too); stopped, only its storage.
        billing.created(id, i.path("label").asText(), offer.path("dph_total").asDouble(),
                offer.path("storage_cost").asDouble() * 50 / 730);
        if (createAnswerStatus != 0) {
            json(request, createAnswerStatus, Map.of("success", false, "error", "internal_error", "msg",
                    "fake: created, then failed to answer"));
        } else if (createAnswerDelayMs > 0) {
            vertx.setTimer(createAnswerDelayMs, t -> json(request, 200, Map.of("success", true, "new_contract",
                    Long.parseLong(id))));
        } else {
            json(request, 200, Map.of("success", true, "new_contract", Long.parseLong(id)));
        }
    }

    private static List<String> argsOf(com.fasterxml.jackson.databind.JsonNode body) {
        List<String> args = new ArrayList<>();
        body.path("args").forEach(a -> args.add(a.asText()));
        return args;
    }

    private void one(HttpServerRequest request, Received r, String id) {
        ObjectNode i = instances.get(id);
        switch (r.method()) {
            case "GET" -> {
                if (readNotFoundBody != null) {
                    request.response().setStatusCode(404).putHeader("content-type", "text/html")
                            .end(readNotFoundBody);
                    return;
                }
                ObjectNode answer = MAPPER.createObjectNode();
                answer.set("instances", i);
                json(request, 200, answer);
            }
            case "PUT" -> {
                String state = r.body().path("state").asText(null);
                if (i != null && state != null && stateChangesApply) {
                    i.put("intended_status", state).put("actual_status", state);
                    billing.running(id, !"stopped".equals(state));
                }
                // The quirk: success whether or not anything changed.
                json(request, 200, Map.of("success", true));
            }
            case "DELETE" -> {
                ObjectNode removed = instances.remove(id);
                if (removed != null) {
                    billing.destroyed(id);
                }
                if (removed != null && listLagsAfterDestroy.get() > 0) {
                    recentlyDestroyed.put(id, removed);
                }
                if (removed == null) {
                    json(request, 404, Map.of("success", false, "error", "no_such_instance"));
                } else {
                    json(request, 200, Map.of("success", true));
                }
            }
            default -> json(request, 405, Map.of("success", false));
        }
    }
}

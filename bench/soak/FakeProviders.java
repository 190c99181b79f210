// Stand-ins for the Vast.ai and RunPod APIs and for the machines they rent, for bench/compute-soak.sh. JDK 17, one
// file, JDK classes only:
//
//   java bench/soak/FakeProviders.java --vast-port P1 --runpod-port P2 --machine-port P3 --control-port P4 \
//       --vast-key K1 --runpod-key K2 --model soak-model [--fault-rate 0.15] [--timeout-fault-ms 7000] [--seed N]
//       [--faults kind,kind (only these kinds; default all)]
//
// Vast.ai (--vast-port) speaks the wire format the gateway uses (src/main/java/.../compute/vastai): POST
// /api/v0/bundles/ (offers), PUT /api/v0/asks/{offer}/ (create: {"success":true,"new_contract":N}), GET
// /api/v0/instances/{id}/?owner=me ({"instances":{...}} or {"instances":null}), GET /api/v1/instances/ (pages of 25,
// next_token), PUT /api/v0/instances/{id}/ {"state":...}, DELETE /api/v0/instances/{id}/; a wrong key answers 404
// auth_error, public_ipaddr carries whitespace and HostPort is a string. RunPod REST v2 (--runpod-port): GET
// /v2/catalog/gpus, POST /v2/pods (201), GET /v2/pods ({"pods":[...]}), GET /v2/pods/{id}, POST /v2/pods/{id}/action
// (409 for a stop of a locked or not running pod), PATCH /v2/pods/{id}, DELETE /v2/pods/{id} (204).
//
// Every machine ever created is kept in a billing ledger (provider, id, label, created, destroyed, $/h, status): it
// bills from its create until its destroy, stopped or not (stopped bills storage). The machines themselves are one
// HTTP server (--machine-port) answering vLLM's GET /health, GET /v1/models (--model) and POST /v1/chat/completions
// under any path prefix (RunPod pods are reached at http://127.0.0.1:<machine-port>/<pod id>/v1 through the proxy URL
// template). Creates, stops and destroys take 0.3-2 s (so a kill -9 can land mid-call).
//
// Faults, each drawn with probability --fault-rate on the calls it applies to (counted by kind):
//   rate_limit_429        any call answers 429 with Retry-After: 1, doing nothing (a third of the rate)
//   create_then_500/502   a create creates the machine, then answers 500 / 502
//   create_then_timeout   a create creates the machine, then answers only after --timeout-fault-ms (past the
//                         gateway's provider timeout)
//   list_lag              a new machine is missing from lists for 3-12 s (a lagging list; the create answers)
//   list_5xx, list_html404, list_odd_shape   a list answers 500/503, an HTML 404 page, or a body of another shape
//                         (Vast {"instances":""}; RunPod a bare array, the retired v1 shape)
//   read_html404          a read of one machine answers an HTML 404 page (RunPod: the gateway reads any 404 as gone)
//   stop_error_after, stop_error_before      a stop/start acts and then answers 500, or answers 500 without acting
//   destroy_error_after, destroy_error_before  the same for a destroy
// The control port (127.0.0.1) answers GET /ledger (one tab-separated line per machine ever created:
// provider id label created_ms destroyed_ms(0 = still billing) usd_per_hour status), GET /faults (counts as
// key=value; GET /faults?on=0|1 switches them off or on) and GET /inflight (creates, state changes and destroys
// being answered now: total=N, create=N, state=N, destroy=N).
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class FakeProviders {

    static final class Machine {
        final String provider;
        final String id;
        final String label;
        final long createdMs = System.currentTimeMillis();
        final double usdPerHour;
        volatile long destroyedMs;
        volatile String status; // Vast actual_status or RunPod status
        volatile long listedFromMs;
        volatile boolean locked;
        final Map<String, Object> body; // the create body (RunPod echoes it)

        Machine(String provider, String id, String label, double usdPerHour, String status, Map<String, Object> body) {
            this.provider = provider;
            this.id = id;
            this.label = label;
            this.usdPerHour = usdPerHour;
            this.status = status;
            this.body = body;
        }
    }

    static final Pattern VAST_ASK = Pattern.compile("/api/v0/asks/([^/]+)/");
    static final Pattern VAST_ONE = Pattern.compile("/api/v0/instances/([0-9]+)/");
    static final Pattern POD = Pattern.compile("/v2/pods/([a-z0-9]+)");
    static final Pattern POD_ACTION = Pattern.compile("/v2/pods/([a-z0-9]+)/action");
    static final String HTML_404 = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found"
            + "</h1><p>The requested URL was not found on this server.</p></body></html>";

    final Map<String, Machine> vast = new ConcurrentHashMap<>();
    final Map<String, Machine> pods = new ConcurrentHashMap<>();
    final List<Machine> ledger = new CopyOnWriteArrayList<>();
    final Map<String, AtomicLong> faults = new ConcurrentHashMap<>();
    final AtomicLong vastIds = new AtomicLong(7_835_600);
    final AtomicLong podIds = new AtomicLong();
    final AtomicInteger inflight = new AtomicInteger();
    final Map<String, AtomicInteger> inflightByKind = new ConcurrentHashMap<>();
    final Random random;
    final double faultRate;
    final long timeoutFaultMs;
    final String vastKey;
    final String runpodKey;
    final String model;
    final int machinePort;
    volatile boolean faultsOn = true;
    /** --faults kind,kind: only these kinds are injected (default: all). */
    final java.util.Set<String> only;

    FakeProviders(Map<String, String> a) {
        random = new Random(Long.parseLong(a.getOrDefault("seed", Long.toString(System.nanoTime()))));
        faultRate = Double.parseDouble(a.getOrDefault("fault-rate", "0.15"));
        timeoutFaultMs = Long.parseLong(a.getOrDefault("timeout-fault-ms", "7000"));
        vastKey = a.get("vast-key");
        runpodKey = a.get("runpod-key");
        model = a.getOrDefault("model", "soak-model");
        machinePort = Integer.parseInt(a.get("machine-port"));
        only = a.containsKey("faults") && !a.get("faults").isBlank()
                ? java.util.Set.of(a.get("faults").split(",")) : null;
    }

    public static void main(String[] argv) throws IOException {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        }
        FakeProviders f = new FakeProviders(a);
        f.serve(Integer.parseInt(a.get("vast-port")), f::vastAi);
        f.serve(Integer.parseInt(a.get("runpod-port")), f::runPod);
        f.serve(f.machinePort, f::machine);
        f.serve(Integer.parseInt(a.get("control-port")), f::control);
        System.out.println("fake providers: vast " + a.get("vast-port") + ", runpod " + a.get("runpod-port")
                + ", machines " + f.machinePort + ", control " + a.get("control-port") + ", fault rate " + f.faultRate);
    }

    interface Handler {
        void handle(HttpExchange x, String body) throws Exception;
    }

    void serve(int port, Handler h) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", x -> {
            try (x) {
                String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                h.handle(x, body);
            } catch (Exception e) {
                try {
                    send(x, 500, "application/json", "{\"error\":\"fake: " + e.toString().replace('"', '\'') + "\"}");
                } catch (Exception ignored) {
                    // the client went away
                }
            }
        });
        server.start();
    }

    // ---- faults -----------------------------------------------------------------------------------------------------

    boolean fault(String kind) {
        return fault(kind, faultRate);
    }

    synchronized boolean fault(String kind, double rate) {
        if (!faultsOn || (only != null && !only.contains(kind)) || random.nextDouble() >= rate) {
            return false;
        }
        faults.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
        return true;
    }

    synchronized int pick(int n) {
        return random.nextInt(n);
    }

    void begin(String kind) {
        inflight.incrementAndGet();
        inflightByKind.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
    }

    void end(String kind) {
        inflight.decrementAndGet();
        inflightByKind.get(kind).decrementAndGet();
    }

    void slow() {
        sleep(300 + pick(1700));
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** 429 with Retry-After, doing nothing: true when it answered. */
    boolean rateLimited(HttpExchange x) throws IOException {
        if (fault("rate_limit_429", faultRate / 3)) {
            x.getResponseHeaders().set("Retry-After", "1");
            send(x, 429, "application/json", "{\"error\":\"rate_limited\",\"msg\":\"slow down\"}");
            return true;
        }
        return false;
    }

    /** A list fault answered, or false. */
    boolean listFault(HttpExchange x, String oddShape) throws IOException {
        if (fault("list_5xx")) {
            send(x, pick(2) == 0 ? 500 : 503, "application/json", "{\"error\":\"fake list failure\"}");
            return true;
        }
        if (fault("list_html404")) {
            send(x, 404, "text/html", HTML_404);
            return true;
        }
        if (fault("list_odd_shape")) {
            send(x, 200, "application/json", oddShape);
            return true;
        }
        return false;
    }

    Machine create(String provider, Map<String, Machine> live, String id, String label, double usdPerHour,
                   String status, Map<String, Object> body) {
        Machine m = new Machine(provider, id, label, usdPerHour, status, body);
        m.listedFromMs = fault("list_lag") ? m.createdMs + 3000 + pick(9000) : 0;
        live.put(id, m);
        ledger.add(m);
        return m;
    }

    /** After a create that happened: a fault kind to answer with instead of success, or null. */
    String createFault() {
        if (fault("create_then_500")) {
            return "500";
        }
        if (fault("create_then_502")) {
            return "502";
        }
        if (fault("create_then_timeout")) {
            return "timeout";
        }
        return null;
    }

    // ---- Vast.ai ----------------------------------------------------------------------------------------------------

    void vastAi(HttpExchange x, String raw) throws Exception {
        if (!("Bearer " + vastKey).equals(x.getRequestHeaders().getFirst("Authorization"))) {
            send(x, 404, "application/json", "{\"success\":false,\"error\":\"auth_error\",\"msg\":\"Invalid user key\"}");
            return;
        }
        if (rateLimited(x)) {
            return;
        }
        String method = x.getRequestMethod();
        String path = x.getRequestURI().getPath();
        Map<String, Object> body = raw.isBlank() ? Map.of() : Json.object(raw);
        Matcher m;
        if (method.equals("POST") && path.equals("/api/v0/bundles/")) {
            StringBuilder offers = new StringBuilder("{\"offers\":[");
            double[] prices = {0.22, 0.31, 0.45};
            for (int i = 0; i < prices.length; i++) {
                offers.append(i == 0 ? "" : ",").append("{\"id\":").append(1001 + i)
                        .append(",\"gpu_name\":\"RTX 4090\",\"num_gpus\":1,\"gpu_ram\":24564,\"dph_total\":")
                        .append(prices[i]).append(",\"reliability2\":0.99,\"storage_cost\":0.15,")
                        .append("\"direct_port_count\":4,\"geolocation\":\"US\",\"verified\":true}");
            }
            send(x, 200, "application/json", offers.append("]}").toString());
        } else if (method.equals("GET") && path.equals("/api/v0/instances/")) {
            send(x, 410, "application/json", "{\"success\":false,\"error\":\"deprecated_endpoint\",\"msg\":"
                    + "\"/api/v0/instances/ is deprecated. Use /api/v1/instances/ instead.\"}");
        } else if (method.equals("GET") && path.equals("/api/v1/instances/")) {
            if (listFault(x, "{\"instances\":\"\",\"next_token\":null}")) {
                return;
            }
            long after = 0;
            String query = x.getRequestURI().getRawQuery();
            for (String part : query == null ? new String[0] : query.split("&")) {
                if (part.startsWith("after_token=")) {
                    after = Long.parseLong(part.substring(12));
                }
            }
            long now = System.currentTimeMillis();
            final long from = after;
            List<Machine> all = vast.values().stream().filter(i -> now >= i.listedFromMs)
                    .filter(i -> Long.parseLong(i.id) > from)
                    .sorted((p, q) -> Long.compare(Long.parseLong(p.id), Long.parseLong(q.id))).toList();
            List<Machine> page = all.stream().limit(25).toList();
            StringBuilder out = new StringBuilder("{\"instances\":[");
            for (int i = 0; i < page.size(); i++) {
                out.append(i == 0 ? "" : ",").append(vastJson(page.get(i)));
            }
            out.append("],\"next_token\":").append(all.size() > 25 ? "\"" + page.get(24).id + "\"" : "null")
                    .append(",\"total_instances\":").append(vast.size()).append('}');
            send(x, 200, "application/json", out.toString());
        } else if (method.equals("PUT") && (m = VAST_ASK.matcher(path)).matches()) {
            double dph = switch (m.group(1)) {
                case "1001" -> 0.22;
                case "1002" -> 0.31;
                case "1003" -> 0.45;
                default -> -1;
            };
            if (dph < 0) {
                send(x, 404, "application/json", "{\"success\":false,\"error\":\"no_such_ask\",\"msg\":\"offer gone\"}");
                return;
            }
            begin("create");
            try {
                slow();
                String id = Long.toString(vastIds.incrementAndGet());
                create("vastai", vast, id, String.valueOf(body.get("label")), dph, "running", body);
                String failure = createFault();
                if (failure == null) {
                    send(x, 200, "application/json", "{\"success\":true,\"new_contract\":" + id + "}");
                } else if (failure.equals("timeout")) {
                    sleep(timeoutFaultMs);
                    send(x, 200, "application/json", "{\"success\":true,\"new_contract\":" + id + "}");
                } else {
                    send(x, Integer.parseInt(failure), "application/json", "{\"success\":false,\"error\":"
                            + "\"internal_error\",\"msg\":\"fake: created, then failed to answer\"}");
                }
            } finally {
                end("create");
            }
        } else if ((m = VAST_ONE.matcher(path)).matches()) {
            Machine i = vast.get(m.group(1));
            switch (method) {
                case "GET" -> {
                    if (fault("read_html404")) {
                        send(x, 404, "text/html", HTML_404);
                    } else {
                        send(x, 200, "application/json", "{\"instances\":" + (i == null ? "null" : vastJson(i)) + "}");
                    }
                }
                case "PUT" -> {
                    Object state = body.get("state");
                    begin("state");
                    try {
                        slow();
                        if (fault("stop_error_before")) {
                            send(x, 500, "application/json", "{\"success\":false,\"msg\":\"fake: failed, nothing done\"}");
                            return;
                        }
                        if (i != null && state instanceof String s) {
                            i.status = s;
                        }
                        if (fault("stop_error_after")) {
                            send(x, 500, "application/json", "{\"success\":false,\"msg\":\"fake: done, then failed\"}");
                            return;
                        }
                        send(x, 200, "application/json", "{\"success\":true}");
                    } finally {
                        end("state");
                    }
                }
                case "DELETE" -> {
                    begin("destroy");
                    try {
                        slow();
                        if (fault("destroy_error_before")) {
                            send(x, 500, "application/json", "{\"success\":false,\"msg\":\"fake: failed, nothing done\"}");
                            return;
                        }
                        Machine removed = vast.remove(m.group(1));
                        if (removed != null) {
                            removed.destroyedMs = System.currentTimeMillis();
                            removed.status = "destroyed";
                        }
                        if (fault("destroy_error_after")) {
                            send(x, 500, "application/json", "{\"success\":false,\"msg\":\"fake: done, then failed\"}");
                        } else if (removed == null) {
                            send(x, 404, "application/json", "{\"success\":false,\"error\":\"no_such_instance\"}");
                        } else {
                            send(x, 200, "application/json", "{\"success\":true}");
                        }
                    } finally {
                        end("destroy");
                    }
                }
                default -> send(x, 405, "application/json", "{\"success\":false}");
            }
        } else {
            send(x, 404, "application/json", "{\"success\":false,\"error\":\"not_found\"}");
        }
    }

    String vastJson(Machine i) {
        return "{\"id\":" + i.id + ",\"label\":" + Json.quote(i.label) + ",\"actual_status\":\"" + i.status
                + "\",\"intended_status\":\"" + i.status + "\",\"cur_state\":\"" + i.status + "\",\"status_msg\":null,"
                + "\"dph_total\":" + i.usdPerHour + ",\"public_ipaddr\":\" 127.0.0.1\\n\",\"ports\":{\"8000/tcp\":"
                + "[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"" + machinePort + "\"}]}}";
    }

    // ---- RunPod -----------------------------------------------------------------------------------------------------

    static String problem(int status, String title, String detail) {
        return "{\"title\":" + Json.quote(title) + ",\"status\":" + status + ",\"detail\":" + Json.quote(detail) + "}";
    }

    void runPod(HttpExchange x, String raw) throws Exception {
        if (!("Bearer " + runpodKey).equals(x.getRequestHeaders().getFirst("Authorization"))) {
            send(x, 401, "application/json", problem(401, "Unauthorized", "invalid api key"));
            return;
        }
        if (rateLimited(x)) {
            return;
        }
        String method = x.getRequestMethod();
        String path = x.getRequestURI().getPath();
        Map<String, Object> body = raw.isBlank() ? Map.of() : Json.object(raw);
        Matcher m;
        if (method.equals("GET") && path.equals("/v2/catalog/gpus")) {
            send(x, 200, "application/json", "[" + gpu("NVIDIA GeForce RTX 4090", 24, 0.69) + ","
                    + gpu("NVIDIA RTX A6000", 48, 0.79) + "," + gpu("NVIDIA GeForce RTX 3090", 24, 0.43) + "]");
        } else if (method.equals("GET") && path.equals("/v2/pods")) {
            if (listFault(x, "[]")) {
                return;
            }
            long now = System.currentTimeMillis();
            StringBuilder out = new StringBuilder("{\"pods\":[");
            boolean first = true;
            for (Machine p : pods.values()) {
                if (now >= p.listedFromMs) {
                    out.append(first ? "" : ",").append(podJson(p));
                    first = false;
                }
            }
            send(x, 200, "application/json", out.append("]}").toString());
        } else if (method.equals("POST") && path.equals("/v2/pods")) {
            begin("create");
            try {
                slow();
                String id = "pod" + podIds.incrementAndGet() + Integer.toString(pick(1 << 20), 36);
                Machine p = create("runpod", pods, id, String.valueOf(body.get("name")), 0.69, "RUNNING", body);
                String failure = createFault();
                if (failure == null) {
                    send(x, 201, "application/json", podJson(p));
                } else if (failure.equals("timeout")) {
                    sleep(timeoutFaultMs);
                    send(x, 201, "application/json", podJson(p));
                } else {
                    int status = Integer.parseInt(failure);
                    send(x, status, "application/json", problem(status, status == 502 ? "Bad Gateway"
                            : "Internal Server Error", "fake: created, then failed to answer"));
                }
            } finally {
                end("create");
            }
        } else if (method.equals("POST") && (m = POD_ACTION.matcher(path)).matches()) {
            Machine p = pods.get(m.group(1));
            Object action = body.get("action");
            begin("state");
            try {
                slow();
                if (p == null) {
                    send(x, 404, "application/json", problem(404, "Not Found", "pod not found"));
                } else if ("stop".equals(action) && (p.locked || !p.status.equals("RUNNING"))) {
                    send(x, 409, "application/json", problem(409, "Conflict", "action stop is not allowed"));
                } else if (fault("stop_error_before")) {
                    send(x, 500, "application/json", problem(500, "Internal Server Error", "fake: nothing done"));
                } else {
                    p.status = "stop".equals(action) ? "EXITED" : "RUNNING";
                    if (fault("stop_error_after")) {
                        send(x, 500, "application/json", problem(500, "Internal Server Error", "fake: done, then failed"));
                    } else {
                        send(x, 200, "application/json", podJson(p));
                    }
                }
            } finally {
                end("state");
            }
        } else if ((m = POD.matcher(path)).matches()) {
            Machine p = pods.get(m.group(1));
            if (method.equals("GET") && fault("read_html404")) {
                send(x, 404, "text/html", HTML_404);
            } else if (method.equals("DELETE")) {
                begin("destroy");
                try {
                    slow();
                    if (fault("destroy_error_before")) {
                        send(x, 500, "application/json", problem(500, "Internal Server Error", "fake: nothing done"));
                        return;
                    }
                    Machine removed = pods.remove(m.group(1));
                    if (removed != null) {
                        removed.destroyedMs = System.currentTimeMillis();
                        removed.status = "TERMINATED";
                    }
                    if (fault("destroy_error_after")) {
                        send(x, 500, "application/json", problem(500, "Internal Server Error", "fake: done, then failed"));
                    } else if (removed == null) {
                        send(x, 404, "application/json", problem(404, "Not Found", "pod not found"));
                    } else {
                        send(x, 204, null, null);
                    }
                } finally {
                    end("destroy");
                }
            } else if (p == null) {
                send(x, 404, "application/json", problem(404, "Not Found", "pod not found"));
            } else if (method.equals("GET")) {
                send(x, 200, "application/json", podJson(p));
            } else if (method.equals("PATCH")) {
                if (body.get("locked") instanceof Boolean b) {
                    p.locked = b;
                }
                send(x, 200, "application/json", podJson(p));
            } else {
                send(x, 405, "application/json", problem(405, "Method Not Allowed", method));
            }
        } else {
            send(x, 404, "application/json", problem(404, "Not Found", path));
        }
    }

    static String gpu(String id, int memory, double secure) {
        return "{\"id\":" + Json.quote(id) + ",\"name\":" + Json.quote(id) + ",\"memory\":" + memory
                + ",\"price\":{\"secure\":" + secure + ",\"community\":" + (secure * 0.8) + "}}";
    }

    String podJson(Machine p) {
        return "{\"id\":\"" + p.id + "\",\"name\":" + Json.quote(p.label) + ",\"status\":\"" + p.status + "\",\"cost\":"
                + (p.status.equals("RUNNING") ? p.usdPerHour : 0.0) + ",\"locked\":" + p.locked
                + ",\"image\":" + Json.quote(String.valueOf(p.body.get("image"))) + "}";
    }

    // ---- the machines -----------------------------------------------------------------------------------------------

    void machine(HttpExchange x, String raw) throws IOException {
        String path = x.getRequestURI().getPath();
        if (path.endsWith("/health")) {
            send(x, 200, "application/json", "{}");
        } else if (path.endsWith("/v1/models")) {
            send(x, 200, "application/json", "{\"object\":\"list\",\"data\":[{\"id\":" + Json.quote(model)
                    + ",\"object\":\"model\",\"owned_by\":\"vllm\",\"max_model_len\":4096}]}");
        } else if (path.endsWith("/chat/completions")) {
            send(x, 200, "application/json", "{\"id\":\"chatcmpl-soak\",\"object\":\"chat.completion\",\"created\":"
                    + System.currentTimeMillis() / 1000 + ",\"model\":" + Json.quote(model) + ",\"choices\":[{\"index\""
                    + ":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
                    + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}");
        } else if (path.endsWith("/metrics")) {
            send(x, 200, "text/plain", "");
        } else {
            send(x, 404, "application/json", "{\"error\":\"not found\"}");
        }
    }

    // ---- control ----------------------------------------------------------------------------------------------------

    void control(HttpExchange x, String raw) throws IOException {
        String path = x.getRequestURI().getPath();
        String query = x.getRequestURI().getQuery();
        switch (path) {
            case "/ledger" -> {
                StringBuilder out = new StringBuilder();
                for (Machine m : ledger) {
                    out.append(m.provider).append('\t').append(m.id).append('\t').append(m.label).append('\t')
                            .append(m.createdMs).append('\t').append(m.destroyedMs).append('\t').append(m.usdPerHour)
                            .append('\t').append(m.status).append('\n');
                }
                send(x, 200, "text/plain", out.toString());
            }
            case "/faults" -> {
                if (query != null && query.startsWith("on=")) {
                    faultsOn = query.equals("on=1");
                }
                StringBuilder out = new StringBuilder("faults_on=" + faultsOn + "\n");
                new TreeMap<>(faults).forEach((k, v) -> out.append(k).append('=').append(v.get()).append('\n'));
                send(x, 200, "text/plain", out.toString());
            }
            case "/inflight" -> {
                StringBuilder out = new StringBuilder("total=" + inflight.get() + "\n");
                new TreeMap<>(inflightByKind).forEach((k, v) -> out.append(k).append('=').append(v.get()).append('\n'));
                send(x, 200, "text/plain", out.toString());
            }
            default -> send(x, 404, "text/plain", "no such control path\n");
        }
    }

    static void send(HttpExchange x, int status, String type, String body) throws IOException {
        if (body == null) {
            x.sendResponseHeaders(status, -1);
            return;
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        if (type != null) {
            x.getResponseHeaders().set("Content-Type", type);
        }
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Just enough JSON: objects, arrays, strings, numbers, booleans, null. */
    static final class Json {
        private final String s;
        private int i;

        private Json(String s) {
            this.s = s;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(String text) {
            Object v = new Json(text).value();
            return v instanceof Map ? (Map<String, Object>) v : Map.of();
        }

        static String quote(String v) {
            if (v == null) {
                return "null";
            }
            StringBuilder out = new StringBuilder("\"");
            for (char c : v.toCharArray()) {
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            return out.append('"').toString();
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                i++;
                Map<String, Object> map = new LinkedHashMap<>();
                ws();
                if (s.charAt(i) == '}') {
                    i++;
                    return map;
                }
                while (true) {
                    ws();
                    String key = string();
                    ws();
                    i++; // :
                    map.put(key, value());
                    ws();
                    if (s.charAt(i++) == '}') {
                        return map;
                    }
                }
            }
            if (c == '[') {
                i++;
                List<Object> list = new ArrayList<>();
                ws();
                if (s.charAt(i) == ']') {
                    i++;
                    return list;
                }
                while (true) {
                    list.add(value());
                    ws();
                    if (s.charAt(i++) == ']') {
                        return list;
                    }
                }
            }
            if (c == '"') {
                return string();
            }
            int start = i;
            while (i < s.length() && ",}] \n\r\t".indexOf(s.charAt(i)) < 0) {
                i++;
            }
            String word = s.substring(start, i);
            return switch (word) {
                case "true" -> Boolean.TRUE;
                case "false" -> Boolean.FALSE;
                case "null" -> null;
                default -> Double.parseDouble(word);
            };
        }

        private String string() {
            StringBuilder out = new StringBuilder();
            i++; // opening quote
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return out.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> out.append('\n');
                        case 't' -> out.append('\t');
                        case 'r' -> out.append('\r');
                        case 'b' -> out.append('\b');
                        case 'f' -> out.append('\f');
                        case 'u' -> {
                            out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> out.append(e);
                    }
                } else {
                    out.append(c);
                }
            }
        }
    }
}

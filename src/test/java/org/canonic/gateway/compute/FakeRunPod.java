package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A fake RunPod REST v2 on loopback: {@code /v2/pods} wrapped as {@code {"pods":[...]}}, 201 on create, 409 for an
 * action the status does not allow (a locked pod cannot stop), 204 on terminate, {@code cost} a number, RFC 9457
 * errors.
 */
public final class FakeRunPod extends FakeProviderServer {

    private static final Pattern POD = Pattern.compile("/v2/pods/([a-z0-9]+)");
    private static final Pattern ACTION = Pattern.compile("/v2/pods/([a-z0-9]+)/action");

    public final Map<String, ObjectNode> pods = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    /**
     * The id the next pod gets; the tests make it the port of a FakeVllm, so that the proxy URL template
     * {@code http://127.0.0.1:{id}} points at it on loopback.
     */
    public volatile String nextPodId;
    /** A read of one pod answers 404 with this raw body (an HTML error page) instead of the pod. */
    public volatile String readNotFoundBody;
    /** This many PATCHes that unlock a pod answer 500 (and change nothing) before they work again. */
    public final java.util.concurrent.atomic.AtomicInteger failUnlocks = new java.util.concurrent.atomic.AtomicInteger();
    /** Non-zero: a create creates the pod, then answers this status (a provider error after acting). */
    public volatile int createAnswerStatus;
    private final Map<String, Long> createdMs = new ConcurrentHashMap<>();

    public FakeRunPod(Vertx vertx, String key) {
        super(vertx, key);
    }

    @Override
    public void reset() {
        super.reset();
        pods.clear();
        nextPodId = null;
        readNotFoundBody = null;
        failUnlocks.set(0);
        createAnswerStatus = 0;
        createdMs.clear();
    }

    /** A pod the gateway did not create this time, named {@code name} (a duplicate or a leak). */
    public ObjectNode addPod(String name, String status) {
        String id = "pod" + ids.incrementAndGet();
        ObjectNode pod = MAPPER.createObjectNode();
        pod.put("id", id).put("name", name).put("status", status).put("cost", 0.69).put("locked", false);
        pods.put(id, pod);
        return pod;
    }

    /**
     * Makes {@code id} look like an interrupted spot pod (RunPod gives no warning): {@code EXITED}, {@code cost} 0.0
     * and {@code runtime} null, as the v2 API shows a pod that is not running.
     */
    public void interrupt(String id) {
        pods.get(id).put("status", "EXITED").put("cost", 0.0).putNull("runtime");
    }

    private static Map<String, Object> problem(int status, String title, String detail) {
        return Map.of("title", title, "status", status, "detail", detail);
    }

    @Override
    void handle(HttpServerRequest request, Received r) {
        if (!("Bearer " + key).equals(r.authorization())) {
            json(request, 401, problem(401, "Unauthorized", "invalid api key"));
            return;
        }
        String path = r.path();
        Matcher m;
        if (r.method().equals("GET") && path.equals("/v2/catalog/gpus")) {
            json(request, 200, MAPPER.createArrayNode()
                    .add(gpu("NVIDIA GeForce RTX 4090", 24, 0.69))
                    .add(gpu("NVIDIA RTX A6000", 48, 0.79))
                    .add(gpu("NVIDIA GeForce RTX 3090", 24, 0.43)));
        } else if (r.method().equals("GET") && path.matches("/v2/[a-z0-9]+/health")) {
            // Only some worker states, as in the docs' example.
            json(request, 200, Map.of("jobs", Map.of("inQueue", 2, "inProgress", 1),
                    "workers", Map.of("idle", 0, "running", 1)));
        } else if (r.method().equals("GET") && path.equals("/v2/pods")) {
            ObjectNode answer = MAPPER.createObjectNode();
            answer.putArray("pods").addAll(pods.values().stream()
                    .filter(p -> listed(createdMs.get(p.path("id").asText()))).toList());
            json(request, 200, answer);
        } else if (r.method().equals("POST") && path.equals("/v2/pods")) {
            String next = nextPodId;
            String id = next != null ? next : "pod" + ids.incrementAndGet();
            ObjectNode pod = r.body().deepCopy();
            pod.put("id", id).put("status", "RUNNING").put("cost", 0.69).put("locked", false);
            pods.put(id, pod);
            createdMs.put(id, System.currentTimeMillis());
            if (createAnswerStatus != 0) {
                json(request, createAnswerStatus, problem(createAnswerStatus, "Bad Gateway", "fake: created, then"
                        + " failed to answer"));
            } else {
                json(request, 201, pod);
            }
        } else if (r.method().equals("POST") && (m = ACTION.matcher(path)).matches()) {
            ObjectNode pod = pods.get(m.group(1));
            String action = r.body().path("action").asText();
            if (pod == null) {
                json(request, 404, problem(404, "Not Found", "pod not found"));
            } else if (action.equals("stop") && (pod.path("locked").asBoolean()
                    || !pod.path("status").asText().equals("RUNNING"))) {
                json(request, 409, problem(409, "Conflict", "action stop is not allowed"));
            } else {
                pod.put("status", action.equals("stop") ? "EXITED" : "RUNNING")
                        .put("cost", action.equals("stop") ? 0.0 : 0.69);
                json(request, 200, pod);
            }
        } else if ((m = POD.matcher(path)).matches()) {
            ObjectNode pod = pods.get(m.group(1));
            if (pod == null) {
                json(request, 404, problem(404, "Not Found", "pod not found"));
            } else if (r.method().equals("GET") && readNotFoundBody != null) {
                request.response().setStatusCode(404).putHeader("content-type", "text/html").end(readNotFoundBody);
            } else if (r.method().equals("GET")) {
                json(request, 200, pod);
            } else if (r.method().equals("PATCH") && r.body().path("locked").isBoolean()
                    && !r.body().path("locked").asBoolean() && failUnlocks.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                json(request, 500, problem(500, "Internal Server Error", "try again"));
            } else if (r.method().equals("PATCH")) {
                pod.setAll((ObjectNode) r.body());
                json(request, 200, pod);
            } else if (r.method().equals("DELETE")) {
                pods.remove(m.group(1));
                request.response().setStatusCode(204).end();
            }
        } else {
            json(request, 404, problem(404, "Not Found", path));
        }
    }

    private static ObjectNode gpu(String id, int memory, double secure) {
        ObjectNode g = MAPPER.createObjectNode();
        g.put("id", id).put("name", id).put("memory", memory);
        g.putObject("price").put("secure", secure).put("community", secure * 0.8);
        return g;
    }
}

package org.canonic.gateway.compute.runpod;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ProviderHttp;

/**
 * RunPod serverless endpoints, read through their health API ({@code GET /v2/{endpoint_id}/health} on
 * {@code api.runpod.ai}). The docs show only some worker states, so every count is read leniently (absent = 0); an
 * answer without a {@code workers} object is an error. Workers bill while running (and outdated ones while they
 * process); idle, initializing, throttled and unhealthy ones do not.
 */
public final class RunPodServerless {

    private static final String[] WORKERS = {"idle", "initializing", "ready", "running", "throttled", "unhealthy"};
    private static final String[] JOBS = {"completed", "failed", "inProgress", "inQueue", "retried"};

    private final ProviderHttp http;
    private final ObjectMapper mapper;

    public RunPodServerless(ProviderHttp http, ObjectMapper mapper) {
        this.http = http;
        this.mapper = mapper;
    }

    public ObjectNode health(String endpointId) {
        if (endpointId == null || !endpointId.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new ComputeException(400, "invalid_endpoint_id", "endpoint_id must be 1-64 letters, digits, '-'"
                    + " or '_'.");
        }
        String what = "reading the health of serverless endpoint " + endpointId;
        ProviderHttp.Reply reply = http.send("GET", "/v2/" + endpointId + "/health", null, what);
        if (reply.status() == 404) {
            throw new ComputeException(404, "endpoint_not_found", "RunPod has no serverless endpoint "
                    + endpointId + ".");
        }
        if (!reply.ok()) {
            throw http.unexpected(reply, what);
        }
        JsonNode workers = reply.json() == null ? null : reply.json().get("workers");
        if (workers == null || !workers.isObject()) {
            throw new ComputeException(502, "provider_bad_answer", "RunPod gave an unexpected answer while " + what
                    + " (no workers object).");
        }
        ObjectNode answer = mapper.createObjectNode();
        answer.put("endpoint_id", endpointId);
        ObjectNode w = answer.putObject("workers");
        for (String state : WORKERS) {
            w.put(state, workers.path(state).asInt(0));
        }
        ObjectNode j = answer.putObject("jobs");
        for (String state : JOBS) {
            j.put(state, reply.json().path("jobs").path(state).asInt(0));
        }
        answer.put("billing_workers", workers.path("running").asInt(0));
        answer.put("warm", workers.path("idle").asInt(0) + workers.path("ready").asInt(0)
                + workers.path("running").asInt(0) > 0);
        return answer;
    }
}

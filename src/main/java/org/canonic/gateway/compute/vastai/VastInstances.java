package org.canonic.gateway.compute.vastai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.compute.InstanceInfo;

/** Reads a Vast.ai instance defensively: statuses it does not know count as not ready. */
final class VastInstances {

    private VastInstances() {
    }

    static InstanceInfo info(JsonNode i, ObjectMapper mapper) {
        String actual = text(i, "actual_status");
        String intended = text(i, "intended_status");
        String message = text(i, "status_msg");
        InstanceInfo.Status status = status(actual, intended, message);
        String providerStatus = "actual=" + actual + " intended=" + intended + " cur_state=" + text(i, "cur_state");
        return new InstanceInfo(i.path("id").asText(), text(i, "label"), status, providerStatus, message,
                status == InstanceInfo.Status.RUNNING ? baseUrl(i, mapper) : null,
                i.path("dph_total").asDouble(Double.NaN));
    }

    private static InstanceInfo.Status status(String actual, String intended, String message) {
        if (actual == null) {
            return InstanceInfo.Status.STARTING;
        }
        switch (actual) {
            case "running":
                return InstanceInfo.Status.RUNNING;
            case "loading":
            case "rebooting":
            case "scheduling":
                return InstanceInfo.Status.STARTING;
            case "created":
                return message != null && message.contains("OCI runtime create failed") ? InstanceInfo.Status.FAILED
                        : InstanceInfo.Status.STARTING;
            case "stopped":
            case "frozen":
                return "running".equals(intended) ? InstanceInfo.Status.STARTING : InstanceInfo.Status.STOPPED;
            case "exited":
                return InstanceInfo.Status.FAILED;
            default:
                return InstanceInfo.Status.UNKNOWN;
        }
    }

    /**
     * {@code http://{public_ipaddr.strip()}:{ports["8000/tcp"][0].HostPort}}; HostPort is a string, the address can
     * carry whitespace, and {@code ports} comes as an object, a JSON string of one, or a list.
     */
    static String baseUrl(JsonNode i, ObjectMapper mapper) {
        String ip = text(i, "public_ipaddr");
        if (ip == null || ip.isBlank()) {
            return null;
        }
        JsonNode ports = i.get("ports");
        if (ports != null && ports.isTextual()) {
            try {
                ports = mapper.readTree(ports.asText());
            } catch (Exception e) {
                return null;
            }
        }
        String hostPort = null;
        if (ports != null && ports.isObject()) {
            JsonNode mapping = ports.path("8000/tcp");
            JsonNode first = mapping.isArray() && !mapping.isEmpty() ? mapping.get(0) : mapping;
            hostPort = text(first, "HostPort");
        } else if (ports != null && ports.isArray()) {
            for (JsonNode p : ports) {
                if (p.path("PrivatePort").asInt(p.path("private").asInt(-1)) == 8000) {
                    hostPort = p.path("PublicPort").asText(p.path("public").asText(null));
                }
            }
        }
        if (hostPort == null || !hostPort.strip().matches("[0-9]{1,5}")) {
            return null;
        }
        String host = ip.strip();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + hostPort.strip();
    }

    private static String text(JsonNode json, String field) {
        if (json == null || !json.isObject()) {
            return null;
        }
        JsonNode value = json.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }
}

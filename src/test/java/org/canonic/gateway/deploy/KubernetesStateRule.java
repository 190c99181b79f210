package org.canonic.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Kubernetes bundle's rule for state (issue 25, item 14): replicas of the gateway share one store or there is one
 * replica. More than one replica needs {@code GATEWAY_STATE_STORE=redis} and a {@code QUARKUS_REDIS_HOSTS}; when that
 * host is a Service of the bundle, it must select a StatefulSet that keeps its data (a volume claim template and the
 * append-only file on). One replica on the embedded store keeps its state directory on a persistent volume. Two
 * replicas on local state each took the maintenance lock, kept their own daily cap and called the other's instances
 * leaks.
 */
final class KubernetesStateRule {

    private KubernetesStateRule() {
    }

    /** The findings (errors) of the rule over the bundle's Kubernetes documents by file. */
    static List<DeployChecker.Finding> check(Map<String, List<JsonNode>> documentsByFile) {
        Map<String, Map<String, String>> configMaps = new HashMap<>();
        Map<String, JsonNode> services = new HashMap<>();
        Map<String, JsonNode> statefulSets = new HashMap<>();
        Map<String, Map.Entry<String, JsonNode>> workloads = new LinkedHashMap<>();
        documentsByFile.forEach((file, documents) -> {
            for (JsonNode document : documents) {
                String name = document.path("metadata").path("name").asText();
                switch (document.path("kind").asText()) {
                    case "ConfigMap" -> {
                        Map<String, String> data = new HashMap<>();
                        document.path("data").fields().forEachRemaining(f -> data.put(f.getKey(), f.getValue().asText()));
                        configMaps.put(name, data);
                    }
                    case "Service" -> services.put(name, document);
                    case "StatefulSet", "Deployment" -> {
                        if (document.path("kind").asText().equals("StatefulSet")) {
                            statefulSets.put(name, document);
                        }
                        workloads.put(name, Map.entry(file, document));
                    }
                    default -> { }
                }
            }
        });
        List<DeployChecker.Finding> findings = new ArrayList<>();
        workloads.forEach((name, entry) -> {
            JsonNode workload = entry.getValue();
            JsonNode pod = workload.path("spec").path("template").path("spec");
            for (JsonNode container : pod.path("containers")) {
                if (DeployChecker.isGatewayImage(container.path("image").asText())) {
                    checkGateway(entry.getKey(), workload.path("kind").asText() + " " + name, workload, pod, container,
                            configMaps, services, statefulSets, findings);
                }
            }
        });
        return findings;
    }

    private static void checkGateway(String file, String where, JsonNode workload, JsonNode pod, JsonNode container,
                                     Map<String, Map<String, String>> configMaps, Map<String, JsonNode> services,
                                     Map<String, JsonNode> statefulSets, List<DeployChecker.Finding> findings) {
        Map<String, String> env = new HashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            env.putAll(configMaps.getOrDefault(from.path("configMapRef").path("name").asText(), Map.of()));
        }
        container.path("env").forEach(variable -> env.put(variable.path("name").asText(),
                variable.path("value").asText("")));
        int replicas = workload.path("spec").path("replicas").asInt(1);
        String store = env.getOrDefault("GATEWAY_STATE_STORE", "embedded").strip().toLowerCase();
        if (store.equals("redis")) {
            String hosts = env.getOrDefault("QUARKUS_REDIS_HOSTS", "").strip();
            if (hosts.isEmpty()) {
                findings.add(error(file, where, "GATEWAY_STATE_STORE=redis without QUARKUS_REDIS_HOSTS"));
                return;
            }
            String host;
            try {
                host = URI.create(hosts).getHost();
            } catch (IllegalArgumentException e) {
                host = null;
            }
            if (host == null) {
                findings.add(error(file, where, "QUARKUS_REDIS_HOSTS " + hosts + " is not a redis:// URL"));
                return;
            }
            JsonNode service = services.get(host.split("\\.")[0]);
            if (service == null) {
                return; // a Redis outside the bundle: the operator's to keep
            }
            JsonNode selector = service.path("spec").path("selector");
            JsonNode backing = statefulSets.values().stream().filter(set -> selects(selector, set)).findFirst()
                    .orElse(null);
            if (backing == null) {
                findings.add(error(file, where, "the state store Service " + host + " selects no StatefulSet of the "
                        + "bundle: its data would not outlive a restart"));
            } else if (!persists(backing)) {
                findings.add(error(file, where, "the state store " + backing.path("metadata").path("name").asText()
                        + " keeps no data across restarts: it needs a volumeClaimTemplate for its data and "
                        + "--appendonly yes"));
            }
            return;
        }
        if (replicas > 1) {
            findings.add(error(file, where, replicas + " replicas on the embedded state store: each would grant its "
                    + "own maintenance lock and spend its own daily cap; set GATEWAY_STATE_STORE=redis with a shared "
                    + "store (valkey.yaml), or run 1 replica"));
            return;
        }
        String stateDir = env.getOrDefault("GATEWAY_STATE_DIR", "/var/lib/magic-gateway/state");
        String volume = null;
        for (JsonNode mount : container.path("volumeMounts")) {
            if (stateDir.equals(mount.path("mountPath").asText()) || stateDir.startsWith(mount.path("mountPath")
                    .asText() + "/")) {
                volume = mount.path("name").asText();
            }
        }
        boolean persistent = false;
        for (JsonNode claim : workload.path("spec").path("volumeClaimTemplates")) {
            persistent |= claim.path("metadata").path("name").asText().equals(volume);
        }
        for (JsonNode declared : pod.path("volumes")) {
            persistent |= declared.path("name").asText().equals(volume) && declared.has("persistentVolumeClaim");
        }
        if (!persistent) {
            findings.add(error(file, where, "the embedded state store's directory " + stateDir + " is not on a "
                    + "persistent volume: the lock's fencing counter, the registry and the spend would be lost with "
                    + "the pod"));
        }
    }

    private static boolean persists(JsonNode statefulSet) {
        if (statefulSet.path("spec").path("volumeClaimTemplates").isEmpty()) {
            return false;
        }
        for (JsonNode container : statefulSet.path("spec").path("template").path("spec").path("containers")) {
            List<String> words = new ArrayList<>();
            container.path("command").forEach(word -> words.add(word.asText()));
            container.path("args").forEach(word -> words.add(word.asText()));
            int flag = words.indexOf("--appendonly");
            if (flag >= 0 && flag + 1 < words.size() && words.get(flag + 1).equals("yes")) {
                return true;
            }
        }
        return false;
    }

    private static boolean selects(JsonNode selector, JsonNode workload) {
        JsonNode labels = workload.path("spec").path("template").path("metadata").path("labels");
        if (!selector.isObject() || selector.isEmpty()) {
            return false;
        }
        var fields = selector.fields();
        while (fields.hasNext()) {
            var field = fields.next();
            if (!field.getValue().asText().equals(labels.path(field.getKey()).asText(null))) {
                return false;
            }
        }
        return true;
    }

    private static DeployChecker.Finding error(String file, String where, String message) {
        return new DeployChecker.Finding(DeployChecker.Severity.ERROR, file, where, message);
    }
}

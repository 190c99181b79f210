package org.canonic.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory sizes that fit a small VM (issue 25, item 5): nothing may leave the heap to the JVM's defaults (a quarter of
 * the host with {@code java -jar}, 80 % of it with the image's start script and no container limit), and every
 * container limit must hold the heap plus what the process needs beside it ({@value #NON_HEAP_MIB} MiB measured: RSS is
 * about heap + 170 MB). The image sets {@code -Xmx}; Compose and Kubernetes set a memory limit (Kubernetes a request
 * too, at most the limit); the README's {@code java -jar} commands give {@code -Xmx}.
 */
final class MemorySizingRule {

    /** What a gateway process needs beyond its heap (metaspace, threads, Netty's direct buffers, code cache). */
    static final long NON_HEAP_MIB = 170;

    private static final Pattern XMX = Pattern.compile("-Xmx(\\d+)([kKmMgG]?)");
    private static final Pattern QUANTITY = Pattern.compile("(\\d+)\\s*([KMG]i?|[kmg]b?|[kmg])?");

    private final List<DeployChecker.Finding> findings = new ArrayList<>();

    /** The findings over the bundle (files by repository path) and the README. */
    static List<DeployChecker.Finding> check(Map<String, String> bundle, Map<String, List<JsonNode>> kubernetes,
                                             JsonNode compose, String readme) {
        MemorySizingRule rule = new MemorySizingRule();
        Long imageHeap = null;
        for (Map.Entry<String, String> file : bundle.entrySet()) {
            if (file.getKey().startsWith("src/main/docker/Dockerfile")) {
                Long heap = heapMib(file.getValue());
                if (heap == null) {
                    rule.error(file.getKey(), "JVM options", "no -Xmx: the heap would follow the host's memory");
                } else if (file.getKey().endsWith("Dockerfile.jvm")) {
                    imageHeap = heap;
                }
            }
        }
        long heap = imageHeap == null ? 512 : imageHeap;
        if (compose != null) {
            compose.path("services").fields().forEachRemaining(service -> {
                JsonNode spec = service.getValue();
                if (spec.path("build").path("dockerfile").asText("").startsWith("src/main/docker/Dockerfile")
                        || DeployChecker.isGatewayImage(spec.path("image").asText(""))) {
                    rule.checkLimit("deploy/compose.yaml", "services." + service.getKey(),
                            text(spec.path("mem_limit")), null, heapOf(spec.path("environment"), heap));
                }
            });
        }
        kubernetes.forEach((file, documents) -> documents.forEach(document -> {
            for (JsonNode container : document.path("spec").path("template").path("spec").path("containers")) {
                if (DeployChecker.isGatewayImage(container.path("image").asText())) {
                    JsonNode resources = container.path("resources");
                    Map<String, String> env = new HashMap<>();
                    container.path("env").forEach(v -> env.put(v.path("name").asText(), v.path("value").asText()));
                    rule.checkLimit(file, document.path("kind").asText() + " " + document.path("metadata")
                                    .path("name").asText() + " container " + container.path("name").asText(),
                            text(resources.path("limits").path("memory")), text(resources.path("requests")
                                    .path("memory")), env.containsKey("JAVA_OPTS_APPEND")
                                    ? orDefault(heapMib(env.get("JAVA_OPTS_APPEND")), heap) : heap);
                }
            }
        }));
        readme.lines().filter(line -> line.contains("-jar") && line.contains("quarkus-run.jar"))
                .filter(line -> heapMib(line) == null)
                .forEach(line -> rule.error("README.md", line.strip(), "a java -jar command without -Xmx"));
        return rule.findings;
    }

    private void checkLimit(String file, String where, String limit, String request, long heapMib) {
        if (limit == null) {
            error(file, where, "no memory limit: the gateway's RSS is its heap (" + heapMib + " MiB) + about "
                    + NON_HEAP_MIB + " MiB");
            return;
        }
        long limitMib = mebibytes(limit);
        if (limitMib < heapMib + NON_HEAP_MIB) {
            error(file, where, "the memory limit " + limit + " is below the heap (" + heapMib + " MiB) + "
                    + NON_HEAP_MIB + " MiB the process needs beside it");
        }
        if (file.startsWith("deploy/k8s/")) {
            if (request == null) {
                error(file, where, "no memory request: the scheduler would place the pod on a node without room");
            } else if (mebibytes(request) > limitMib) {
                error(file, where, "the memory request " + request + " exceeds the limit " + limit);
            }
        }
    }

    private static long heapOf(JsonNode environment, long imageHeap) {
        String options = environment.isObject() ? environment.path("JAVA_OPTS_APPEND").asText(null) : null;
        return options == null ? imageHeap : orDefault(heapMib(options), imageHeap);
    }

    private static long orDefault(Long value, long fallback) {
        return value == null ? fallback : value;
    }

    /** The -Xmx of a command line or options string, in MiB; null when there is none. */
    static Long heapMib(String text) {
        Matcher matcher = XMX.matcher(text);
        Long found = null;
        while (matcher.find()) {
            long value = Long.parseLong(matcher.group(1));
            found = switch (matcher.group(2).toLowerCase(Locale.ROOT)) {
                case "g" -> value * 1024;
                case "m" -> value;
                case "k" -> value / 1024;
                default -> value / (1024 * 1024);
            };
        }
        return found;
    }

    /** A Kubernetes quantity ({@code 768Mi}, {@code 1Gi}) or a Compose size ({@code 768m}, {@code 1g}) in MiB. */
    static long mebibytes(String quantity) {
        Matcher matcher = QUANTITY.matcher(quantity.strip());
        if (!matcher.matches()) {
            throw new IllegalArgumentException("not a memory quantity: " + quantity);
        }
        long value = Long.parseLong(matcher.group(1));
        String unit = matcher.group(2) == null ? "" : matcher.group(2);
        return switch (unit) {
            case "Gi", "g", "gb", "G" -> value * 1024;
            case "Mi", "m", "mb", "M" -> value;
            case "Ki", "k", "kb", "K" -> value / 1024;
            default -> value / (1024 * 1024);
        };
    }

    private static String text(JsonNode node) {
        return node.isMissingNode() || node.isNull() ? null : node.asText();
    }

    private void error(String file, String where, String message) {
        findings.add(new DeployChecker.Finding(DeployChecker.Severity.ERROR, file, where, message));
    }
}

package org.canonic.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.deploy.DeployChecker.Finding;
import org.canonic.gateway.deploy.DeployChecker.Severity;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The deploy bundle ({@code deploy/}, {@code src/main/docker/}) against what the application really serves and
 * reads: probe and health-check paths, ingress paths, ports, environment variable names, and the metric names of the
 * Grafana dashboard. A renamed endpoint, property, port or metric fails this test instead of a deployment. Plain
 * JUnit: nothing is booted.
 *
 * <p>What is right only once the application makes a change it has announced (the management interface on port 9000,
 * the variables of issue 11) is reported by {@link #pendingApplicationChanges()}, which is skipped (with the list)
 * while such findings exist, and enforced as soon as application.properties catches up.
 */
class DeployFilesTest {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path DEPLOY = ROOT.resolve("deploy");

    private static AppFacts app;
    private static List<Finding> findings;

    @BeforeAll
    static void checkTheBundle() throws IOException {
        app = AppFacts.load(ROOT);
        findings = check(app, bundle());
    }

    @Test
    void deployFilesUseOnlyWhatTheApplicationServesAndReads() {
        List<Finding> errors = findings.stream().filter(f -> f.severity() == Severity.ERROR).toList();
        if (!errors.isEmpty()) {
            fail("the deploy bundle drifted from the application:\n"
                    + errors.stream().map(Finding::toString).collect(Collectors.joining("\n")));
        }
    }

    @Test
    void pendingApplicationChanges() {
        List<Finding> pending = findings.stream().filter(f -> f.severity() == Severity.PENDING).toList();
        assumeTrue(pending.isEmpty(), () -> "the deploy bundle is ahead of the application; it is right once the"
                + " application makes these announced changes:\n"
                + pending.stream().map(Finding::toString).collect(Collectors.joining("\n")));
    }

    @Test
    void everyDeployFileSaysHowToUseIt() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(DEPLOY)) {
            files = walk.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().endsWith(".json"))
                    .filter(f -> !isLocalSecret(f))
                    .sorted().toList();
        }
        for (Path file : files) {
            String text = Files.readString(file);
            assertTrue(text.startsWith("#"), file + " must start with a comment");
            String header = text.lines().takeWhile(l -> l.startsWith("#")).collect(Collectors.joining("\n"));
            assertTrue(header.toLowerCase().contains("how to use"), file + "'s first comment must say how to use it");
        }
    }

    @Test
    void kustomizationListsEveryKubernetesFile() throws IOException {
        Path k8s = DEPLOY.resolve("k8s");
        JsonNode kustomization = DeployChecker.parseYaml(Files.readString(k8s.resolve("kustomization.yaml"))).get(0);
        Set<String> listed = new TreeSet<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        Set<String> present;
        try (Stream<Path> list = Files.list(k8s)) {
            present = list.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml") && !n.equals("secret.yaml"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(present, listed, "deploy/k8s/kustomization.yaml resources");
    }

    @Test
    void grafanaDashboardQueriesOnlyMetricsTheGatewayRegisters() throws IOException {
        Set<String> registered = registeredSeries();
        assertTrue(registered.contains("gateway_requests_total"), "meters found in src/main/java: " + registered);
        JsonNode dashboard = new ObjectMapper().readTree(DEPLOY.resolve("grafana-dashboard.json").toFile());
        Map<String, String> unknown = unknownMetrics(dashboard, registered);
        assertTrue(unknown.isEmpty(), "deploy/grafana-dashboard.json queries metrics nobody registers: " + unknown
                + " (registered: " + registered + ")");
    }

    @Test
    void applicationFactsComeFromTheBuild() {
        assertTrue(app.appPaths().containsAll(Set.of("/v1/chat/completions", "/v1/completions", "/v1/models",
                "/health", "/admin/backends")), () -> "served paths: " + app.appPaths());
        assertTrue(app.nonApplicationPaths().containsAll(Set.of(app.healthPath("live"), app.healthPath("ready"),
                app.healthPath("started"), app.metricsPath())), () -> "non-application paths: " + app.nonApplicationPaths());
        assertTrue(app.healthPath("live").endsWith("/health/live"), app.healthPath("live"));
        for (String known : List.of("GATEWAY_API_KEYS", "MODEL", "QUARKUS_HTTP_PORT", "QUARKUS_LOG_LEVEL",
                "QUARKUS_PROFILE", "GATEWAY_KEEP_ALIVE_INTERVAL", "GATEWAY_DEFAULTS_CLOCKS_FIRST_TOKEN",
                "GATEWAY_BACKENDS_MY_GPU_BASE_URL", "GATEWAY_TELEMETRY_LEDGER_ROTATE_SIZE", "JAVA_MAX_MEM_RATIO")) {
            assertEquals(AppFacts.Verdict.KNOWN, app.verdict(known), known);
        }
        assertEquals(AppFacts.Verdict.BUILD_TIME, app.verdict("QUARKUS_MANAGEMENT_ENABLED"));
        for (String unknown : List.of("GATEWAY_LEDGR_PATH", "QUARKUS_HTTP_PROT", "VASTAI_MODLE", "GATEWAY_TOKENS")) {
            assertEquals(AppFacts.Verdict.UNKNOWN, app.verdict(unknown), unknown);
        }
    }

    // ---- the checker must fail on drift ---------------------------------------------------------------------------

    @Test
    void checkerReportsAProbeOnAPathTheApplicationDoesNotServe() throws IOException {
        Map<String, String> bundle = bundle();
        bundle.put("deploy/k8s/deployment.yaml", bundle.get("deploy/k8s/deployment.yaml")
                .replace("path: /q/health/live", "path: /q/health/alive"));
        bundle.put("deploy/compose.yaml", bundle.get("deploy/compose.yaml")
                .replace("GET /q/health/live HTTP", "GET /q/health/alive HTTP"));
        List<Finding> errors = errors(check(app, bundle));
        assertReported(errors, "deploy/k8s/deployment.yaml", "/q/health/alive is not served");
        assertReported(errors, "deploy/compose.yaml", "/q/health/alive is not served");
    }

    @Test
    void checkerReportsAMisspeltVariable() throws IOException {
        Map<String, String> bundle = bundle();
        bundle.put("deploy/compose.yaml", bundle.get("deploy/compose.yaml")
                .replace("      GATEWAY_LEDGER_PATH: ", "      GATEWAY_LEDGR_PATH: "));
        bundle.put("deploy/k8s/configmap.yaml", bundle.get("deploy/k8s/configmap.yaml")
                .replace("  VASTAI_MODEL:", "  VASTAI_MODLE:"));
        bundle.put("src/main/docker/Dockerfile.jvm", bundle.get("src/main/docker/Dockerfile.jvm")
                .replace("ENV LANGUAGE=", "ENV LANGAUGE="));
        List<Finding> errors = errors(check(app, bundle));
        assertReported(errors, "deploy/compose.yaml", "GATEWAY_LEDGR_PATH is read by nothing");
        assertReported(errors, "deploy/compose.yaml", "GATEWAY_LEDGR_PATH is not listed in deploy/gateway.env.example");
        assertReported(errors, "deploy/k8s/deployment.yaml", "VASTAI_MODLE is read by nothing");
        assertReported(errors, "src/main/docker/Dockerfile.jvm", "LANGAUGE is read by nothing");
    }

    @Test
    void checkerReportsABuildTimePropertySetAtRunTime() throws IOException {
        Map<String, String> bundle = bundle();
        bundle.put("deploy/gateway.env.example", bundle.get("deploy/gateway.env.example")
                + "QUARKUS_MANAGEMENT_ENABLED=true\n");
        assertReported(errors(check(app, bundle)), "deploy/gateway.env.example",
                "QUARKUS_MANAGEMENT_ENABLED sets a build-time Quarkus property");
    }

    @Test
    void checkerReportsWrongPorts() throws IOException {
        Map<String, String> bundle = bundle();
        bundle.put("deploy/k8s/deployment.yaml", bundle.get("deploy/k8s/deployment.yaml")
                .replace("containerPort: 8080", "containerPort: 8081"));
        bundle.put("deploy/k8s/service.yaml", bundle.get("deploy/k8s/service.yaml")
                .replace("targetPort: management", "targetPort: metrics"));
        bundle.put("deploy/compose.yaml", bundle.get("deploy/compose.yaml")
                .replace("\"127.0.0.1:8080:8080\"", "\"127.0.0.1:8080:8088\""));
        bundle.put("deploy/cloudflared-config.example.yml", bundle.get("deploy/cloudflared-config.example.yml")
                .replace("service: http://magic-gateway:8080", "service: http://magic-gateway:9000"));
        List<Finding> errors = errors(check(app, bundle));
        assertReported(errors, "deploy/k8s/deployment.yaml", "port 8081 is not a port the gateway listens on");
        assertReported(errors, "deploy/k8s/service.yaml", "targetPort metrics is not a container port");
        assertReported(errors, "deploy/compose.yaml", "port 8088 is not a port the gateway listens on");
        assertReported(errors, "deploy/cloudflared-config.example.yml", "serves the API on 8080, not 9000");
    }

    @Test
    void checkerFollowsTheManagementInterfaceSetting() throws IOException {
        Map<String, String> bundle = bundle();
        AppFacts enabled = app.with(Map.of("quarkus.management.enabled", "true"));
        AppFacts disabled = app.with(Map.of("quarkus.management.enabled", "false"));

        // The bundle probes /q/health/* on 9000: right with the interface on, pending (not wrong) without it.
        List<Finding> withInterface = check(enabled, bundle);
        assertTrue(withInterface.stream().noneMatch(f -> f.message().contains("management interface")),
                () -> "with quarkus.management.enabled=true nothing about the interface is open: " + withInterface);
        assertTrue(check(disabled, bundle).stream().anyMatch(f -> f.severity() == Severity.PENDING
                && f.message().contains("/q/health/live on port 9000 needs the management interface")));

        // Probes left on the API port are wrong once the interface is on, right while it is off.
        Map<String, String> onApiPort = new LinkedHashMap<>(bundle);
        onApiPort.put("deploy/k8s/deployment.yaml", bundle.get("deploy/k8s/deployment.yaml")
                .replace("port: management", "port: http"));
        assertReported(errors(check(enabled, onApiPort)), "deploy/k8s/deployment.yaml",
                "/q/health/live is served on port 9000, not on 8080");
        List<Finding> withoutInterface = check(disabled, onApiPort);
        assertTrue(withoutInterface.stream().noneMatch(f -> f.file().equals("deploy/k8s/deployment.yaml")
                && f.message().contains("/q/health/live")), withoutInterface::toString);
    }

    @Test
    void checkerReportsATunnelRuleThatExposesManagementPaths() throws IOException {
        Map<String, String> bundle = bundle();
        bundle.put("deploy/cloudflared-config.example.yml", bundle.get("deploy/cloudflared-config.example.yml")
                .replace("path: ^/(v1/.*|health(/[a-z0-9._-]+)?)$", "path: ^/.*$")
                .replace("  keepAliveTimeout: 90s", "  keepAliveTimeout: 90s\n  bufferSSE: false"));
        List<Finding> errors = errors(check(app, bundle));
        assertReported(errors, "deploy/cloudflared-config.example.yml", "passes /q/metrics");
        assertReported(errors, "deploy/cloudflared-config.example.yml", "passes /admin/backends");
        assertReported(errors, "deploy/cloudflared-config.example.yml", "passes /console");
        assertReported(errors, "deploy/cloudflared-config.example.yml", "bufferSSE");
    }

    @Test
    void checkerReportsATunnelThatKeepsConnectionsLongerThanTheGateway() throws IOException {
        Map<String, String> bundle = bundle();
        assertTrue(errors(check(app, bundle)).stream().noneMatch(f -> f.message().contains("keeps idle connections")),
                "the shipped bundle obeys the rule");
        bundle.put("deploy/cloudflared-config.example.yml", bundle.get("deploy/cloudflared-config.example.yml")
                .replace("  keepAliveTimeout: 90s", "  keepAliveTimeout: 5m"));
        assertReported(errors(check(app, bundle)), "deploy/cloudflared-config.example.yml",
                "the tunnel keeps idle connections 300 s");
        assertEquals(Duration.ofSeconds(5400), DeployChecker.goDuration("1h30m"));
        assertEquals(Duration.ofMillis(1500), DeployChecker.goDuration("1s500ms"));
    }

    @Test
    void checkerReportsAGracePeriodShorterThanTheDrain() throws IOException {
        Map<String, String> bundle = bundle();
        bundle.put("deploy/k8s/deployment.yaml", bundle.get("deploy/k8s/deployment.yaml")
                .replace("terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30"));
        bundle.put("deploy/compose.yaml", bundle.get("deploy/compose.yaml")
                .replace("stop_grace_period: 40s\n    stop_signal", "stop_grace_period: 10s\n    stop_signal"));
        List<Finding> errors = errors(check(app, bundle));
        assertReported(errors, "deploy/k8s/deployment.yaml", "terminationGracePeriodSeconds 30 is shorter");
        assertReported(errors, "deploy/compose.yaml", "kills the gateway after 10 s");
    }

    @Test
    void checkerReportsReplicasOnLocalStateAndAStoreThatForgets() throws IOException {
        Map<String, String> bundle = bundle();
        assertTrue(errors(check(app, bundle)).stream().noneMatch(f -> f.message().contains("state store")),
                "the shipped bundle obeys the rule");
        String configMap = bundle.get("deploy/k8s/configmap.yaml");
        String deployment = bundle.get("deploy/k8s/deployment.yaml");

        Map<String, String> local = new LinkedHashMap<>(bundle);
        local.put("deploy/k8s/configmap.yaml", configMap.replace("GATEWAY_STATE_STORE: redis",
                "GATEWAY_STATE_STORE: embedded"));
        assertReported(errors(check(app, local)), "deploy/k8s/deployment.yaml",
                "2 replicas on the embedded state store");

        Map<String, String> forgetful = new LinkedHashMap<>(bundle);
        forgetful.put("deploy/k8s/valkey.yaml", bundle.get("deploy/k8s/valkey.yaml")
                .replace("\"--appendonly\", \"yes\", ", ""));
        assertReported(errors(check(app, forgetful)), "deploy/k8s/deployment.yaml", "keeps no data across restarts");

        Map<String, String> alone = new LinkedHashMap<>(local);
        alone.put("deploy/k8s/deployment.yaml", deployment.replace("replicas: 2", "replicas: 1"));
        assertReported(errors(check(app, alone)), "deploy/k8s/deployment.yaml", "is not on a persistent volume");
        alone.put("deploy/k8s/deployment.yaml", deployment.replace("replicas: 2", "replicas: 1").replace(
                "        - name: state\n          emptyDir:\n            sizeLimit: 256Mi",
                "        - name: state\n          persistentVolumeClaim:\n            claimName: gateway-state"));
        assertTrue(errors(check(app, alone)).stream().noneMatch(f -> f.message().contains("state store")),
                "one replica with its state on a claim obeys the rule");
    }

    @Test
    void checkerReportsMemoryLeftToTheHostOrLimitsBelowTheHeap() throws IOException {
        Map<String, String> bundle = bundle();
        assertTrue(errors(check(app, bundle)).stream().noneMatch(f -> f.message().contains("-Xmx")
                || f.message().contains("memory")), "the shipped bundle obeys the rule");
        bundle.put("src/main/docker/Dockerfile.jvm", bundle.get("src/main/docker/Dockerfile.jvm").replace(" -Xmx512m", ""));
        bundle.put("deploy/compose.yaml", bundle.get("deploy/compose.yaml").replace("    mem_limit: 768m\n", ""));
        bundle.put("deploy/k8s/deployment.yaml", bundle.get("deploy/k8s/deployment.yaml")
                .replace("              memory: 768Mi\n            limits:", "              memory: 2Gi\n            limits:")
                .replace("            limits:\n              memory: 768Mi", "            limits:\n              memory: 600Mi"));
        bundle.put("README.md", Files.readString(ROOT.resolve("README.md")).replace("java -Xmx512m -jar", "java -jar"));
        List<Finding> errors = errors(check(app, bundle));
        assertReported(errors, "src/main/docker/Dockerfile.jvm", "no -Xmx");
        assertReported(errors, "deploy/compose.yaml", "no memory limit");
        assertReported(errors, "deploy/k8s/deployment.yaml", "the memory limit 600Mi is below the heap (512 MiB)");
        assertReported(errors, "deploy/k8s/deployment.yaml", "the memory request 2Gi exceeds the limit 600Mi");
        assertReported(errors, "README.md", "a java -jar command without -Xmx");
        assertEquals(768, MemorySizingRule.mebibytes("768Mi"));
        assertEquals(1024, MemorySizingRule.mebibytes("1g"));
        assertEquals(2048L, MemorySizingRule.heapMib("java -Xmx2g -jar x.jar"));
    }

    @Test
    void dashboardCheckReportsAnUnknownMetric() throws IOException {
        Set<String> registered = registeredSeries();
        JsonNode dashboard = new ObjectMapper().readTree("{\"panels\":[{\"targets\":[{\"expr\":"
                + "\"sum(rate(gateway_requests_totl{route=~\\\"$route\\\"}[$__rate_interval]))"
                + " / sum(rate(gateway_requests_total[5m]))\"},{\"expr\":"
                + "\"histogram_quantile(0.95, sum by (le) (rate(gen_ai_server_time_to_first_token_bucket[5m])))\"}]}]}");
        Map<String, String> unknown = unknownMetrics(dashboard, registered);
        assertEquals(Set.of("gateway_requests_totl", "gen_ai_server_time_to_first_token_bucket"),
                Set.copyOf(unknown.values()), unknown.toString());
        assertEquals(Set.of("gateway_requests_total", "gen_ai_server_time_to_first_token_seconds_bucket"),
                DeployChecker.metricsIn("sum(rate(gateway_requests_total{outcome!~\"completed|refused\"}[1m]))"
                        + " or histogram_quantile(0.5, sum by (le, backend) "
                        + "(rate(gen_ai_server_time_to_first_token_seconds_bucket[$__rate_interval])))"));
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    /** The bundle's files by repository-relative path (the self-tests change some before checking). */
    private static Map<String, String> bundle() throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(DEPLOY)) {
            for (Path file : walk.filter(Files::isRegularFile).filter(f -> !isLocalSecret(f)).toList()) {
                files.put(ROOT.relativize(file).toString().replace('\\', '/'), Files.readString(file));
            }
        }
        try (Stream<Path> list = Files.list(ROOT.resolve("src/main/docker"))) {
            for (Path file : list.filter(f -> f.getFileName().toString().startsWith("Dockerfile")).toList()) {
                files.put(ROOT.relativize(file).toString().replace('\\', '/'), Files.readString(file));
            }
        }
        return files;
    }

    /** Files a developer creates from the examples (git-ignored): real secrets, not part of the bundle. */
    private static boolean isLocalSecret(Path file) {
        String name = file.getFileName().toString();
        return name.equals("gateway.env") || name.equals("cloudflared-token") || name.equals("secret.yaml");
    }

    /**
     * Checks a bundle: the env example, Compose, Kubernetes, then the tunnel configuration (whose targets are the
     * Compose and Kubernetes services) and the Dockerfiles. Every YAML and JSON file of deploy/ must parse.
     */
    private static List<Finding> check(AppFacts facts, Map<String, String> bundle) throws IOException {
        String example = bundle.get("deploy/gateway.env.example");
        assertTrue(example != null, "deploy/gateway.env.example is missing");
        DeployChecker checker = new DeployChecker(facts, example);
        checker.checkEnvExample("deploy/gateway.env.example");

        Map<String, List<JsonNode>> kubernetes = new LinkedHashMap<>();
        List<String> cloudflared = new ArrayList<>();
        boolean compose = false;
        JsonNode composeDocument = null;
        for (Map.Entry<String, String> file : bundle.entrySet()) {
            String path = file.getKey();
            if (path.endsWith(".json")) {
                new ObjectMapper().readTree(file.getValue()); // must parse
            } else if (path.endsWith(".yaml") || path.endsWith(".yml")) {
                List<JsonNode> documents = DeployChecker.parseYaml(file.getValue());
                assertFalse(documents.isEmpty(), path + " has no YAML document");
                if (path.startsWith("deploy/k8s/")) {
                    kubernetes.put(path, documents);
                } else if (path.startsWith("deploy/cloudflared-config")) {
                    cloudflared.add(path);
                } else if (path.equals("deploy/compose.yaml")) {
                    checker.checkCompose(path, documents.get(0));
                    composeDocument = documents.get(0);
                    compose = true;
                } else {
                    fail("no check knows " + path + ": add one to DeployFilesTest");
                }
            }
        }
        assertTrue(compose, "deploy/compose.yaml is missing");
        checker.checkKubernetes(kubernetes);
        checker.checkServiceUrls("deploy/gateway.env.example", example);
        for (String path : cloudflared) {
            checker.checkCloudflaredConfig(path, DeployChecker.parseYaml(bundle.get(path)).get(0));
        }
        for (Map.Entry<String, String> file : bundle.entrySet()) {
            if (file.getKey().startsWith("src/main/docker/Dockerfile")) {
                checker.checkDockerfile(file.getKey(), file.getValue());
            }
        }
        List<Finding> all = new ArrayList<>(checker.findings());
        all.addAll(KubernetesStateRule.check(kubernetes));
        all.addAll(MemorySizingRule.check(bundle, kubernetes, composeDocument,
                bundle.getOrDefault("README.md", Files.readString(ROOT.resolve("README.md")))));
        return all;
    }

    private static List<Finding> errors(List<Finding> findings) {
        return findings.stream().filter(f -> f.severity() == Severity.ERROR).toList();
    }

    private static void assertReported(List<Finding> errors, String file, String text) {
        assertTrue(errors.stream().anyMatch(f -> f.file().equals(file) && (f.where() + ": " + f.message()).contains(text)),
                () -> "expected an error in " + file + " containing \"" + text + "\", got:\n"
                        + errors.stream().map(Finding::toString).collect(Collectors.joining("\n")));
    }

    /** Prometheus series of every meter registered in src/main/java (GatewayMetrics and any other class). */
    private static Set<String> registeredSeries() throws IOException {
        Set<String> series = new TreeSet<>();
        try (Stream<Path> walk = Files.walk(ROOT.resolve("src/main/java"))) {
            for (Path file : walk.filter(f -> f.toString().endsWith(".java")).toList()) {
                series.addAll(DeployChecker.prometheusSeries(Files.readString(file, StandardCharsets.UTF_8)));
            }
        }
        return series;
    }

    private static Map<String, String> unknownMetrics(JsonNode dashboard, Set<String> registered) {
        Map<String, String> unknown = new TreeMap<>();
        Map<String, String> expressions = DeployChecker.dashboardExpressions(dashboard, "$", new HashMap<>());
        assertFalse(expressions.isEmpty(), "no PromQL expression found in the dashboard");
        expressions.forEach((where, expression) -> {
            for (String metric : DeployChecker.metricsIn(expression)) {
                if (!registered.contains(metric)) {
                    unknown.put(where + " " + metric, metric);
                }
            }
        });
        return unknown;
    }
}

package org.canonic.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.canonic.gateway.deploy.AppFacts.PathKind;
import org.canonic.gateway.deploy.AppFacts.Verdict;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Checks the deploy bundle against what the application serves and reads ({@link AppFacts}): HTTP paths (probes,
 * health checks, tunnel ingress), ports (container, probe, Service, Compose) and environment variable names. Each
 * problem is a {@link Finding}; {@link Severity#PENDING} marks what is right for a change the application has
 * announced but not made yet (the management interface, variables of issue 11).
 */
final class DeployChecker {

    enum Severity { ERROR, PENDING }

    record Finding(Severity severity, String file, String where, String message) {
        @Override
        public String toString() {
            return severity + " " + file + " " + where + ": " + message;
        }
    }

    /** Variables cloudflared reads (the ones this bundle may use). */
    static final Set<String> CLOUDFLARED_VARIABLES = Set.of("TUNNEL_TOKEN", "TUNNEL_METRICS", "TUNNEL_LOGLEVEL",
            "NO_AUTOUPDATE", "TUNNEL_TRANSPORT_PROTOCOL", "TUNNEL_EDGE_IP_VERSION", "TUNNEL_GRACE_PERIOD",
            "TUNNEL_RETRIES", "TUNNEL_TAG");

    /** cloudflared's own HTTP endpoints on its metrics port. */
    static final Set<String> CLOUDFLARED_PATHS = Set.of("/ready", "/metrics", "/healthcheck");

    /** Origin request parameters cloudflared knows (Cloudflare's "Origin parameters" reference). */
    static final Set<String> CLOUDFLARED_ORIGIN_OPTIONS = Set.of("connectTimeout", "tlsTimeout", "tcpKeepAlive",
            "noHappyEyeballs", "keepAliveConnections", "keepAliveTimeout", "httpHostHeader", "originServerName",
            "matchSNItoHost", "caPool", "noTLSVerify", "disableChunkedEncoding", "http2Origin", "proxyAddress",
            "proxyPort", "proxyType", "bastionMode", "ipRules", "access");

    /** Top-level keys of a cloudflared configuration file used here (run parameters plus the tunnel's own). */
    static final Set<String> CLOUDFLARED_CONFIG_KEYS = Set.of("tunnel", "credentials-file", "ingress",
            "originRequest", "metrics", "no-autoupdate", "loglevel", "transport-loglevel", "protocol", "retries",
            "grace-period", "edge-ip-version", "warp-routing", "logfile", "pidfile", "tag");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern DEV_TCP = Pattern.compile("/dev/tcp/([^/\\s\"']+)/(\\d+)");
    private static final Pattern HTTP_GET = Pattern.compile("GET (/\\S*) HTTP");
    private static final Pattern URL = Pattern.compile("https?://([A-Za-z0-9._-]+)(?::(\\d+))?(/[^\\s\"'\\\\]*)?");

    private final AppFacts app;
    /** Names listed (set or commented out) in gateway.env.example. */
    private final Set<String> listedVariables;
    /** Values set (not commented out) in gateway.env.example: what a gateway.env copied from it holds. */
    private final Map<String, String> exampleValues;
    private final List<Finding> findings = new ArrayList<>();
    /** Compose services that run the gateway image, by name, with their profile and environment. */
    private final Map<String, GatewayService> composeGateways = new LinkedHashMap<>();
    /** Kubernetes Services by name: port number to the API/management port it reaches (-1 when unresolved). */
    private final Map<String, Map<Integer, Integer>> k8sServicePorts = new LinkedHashMap<>();
    private Map<String, String> k8sGatewayEnv = Map.of();

    private record GatewayService(String profile, Map<String, String> env) {
    }

    DeployChecker(AppFacts app, String envExample) {
        this.app = app;
        this.listedVariables = new TreeSet<>();
        this.exampleValues = new LinkedHashMap<>();
        Matcher line = Pattern.compile("(?m)^(#\\s*)?([A-Z][A-Z0-9_]*)=(.*)$").matcher(envExample);
        while (line.find()) {
            listedVariables.add(line.group(2));
            if (line.group(1) == null) {
                exampleValues.put(line.group(2), line.group(3).trim());
            }
        }
    }

    List<Finding> findings() {
        return findings;
    }

    private void error(String file, String where, String message) {
        findings.add(new Finding(Severity.ERROR, file, where, message));
    }

    private void pending(String file, String where, String message) {
        findings.add(new Finding(Severity.PENDING, file, where, message));
    }

    static List<JsonNode> parseYaml(String text) throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(text)) {
            while (it.hasNext()) {
                JsonNode document = it.next();
                if (document != null && !document.isNull() && !document.isMissingNode()) {
                    documents.add(document);
                }
            }
        }
        return documents;
    }

    // ---- variables ------------------------------------------------------------------------------------------------

    /** A variable given to a gateway container: the application must read it, and the example must list it. */
    void checkGatewayVariable(String file, String where, String name, boolean mustBeListed) {
        Verdict verdict = app.verdict(name);
        switch (verdict) {
            case UNKNOWN -> error(file, where, "variable " + name + " is read by nothing: not referenced as ${"
                    + name + "} in application.properties, not the variable form of a gateway.* or documented Quarkus"
                    + " property, not an image variable");
            case BUILD_TIME -> error(file, where, "variable " + name + " sets a build-time Quarkus property: it is"
                    + " fixed when the jar is built and ignored at run time");
            case PENDING -> pending(file, where, "variable " + name + " (" + AppFacts.ANNOUNCED_VARIABLES.get(name)
                    + ") is not read by the application yet: application.properties has no ${" + name + "}");
            case KNOWN -> { }
        }
        if (mustBeListed && !listedVariables.contains(name)) {
            error(file, where, "variable " + name + " is not listed in deploy/gateway.env.example");
        }
    }

    /** Every name in gateway.env.example must be one the application reads. */
    void checkEnvExample(String file) {
        for (String name : listedVariables) {
            checkGatewayVariable(file, name, name, false);
        }
    }

    // ---- ports and paths ------------------------------------------------------------------------------------------

    /** A probe or check of a gateway: the path must be served, on the port this check uses. */
    private void checkGatewayRequest(String file, String where, String path, int port, String profile,
                                     Map<String, String> env, String expectedHealth) {
        PathKind kind = app.kindOf(path);
        int httpPort = app.httpPort(profile, env);
        switch (kind) {
            case UNKNOWN -> {
                error(file, where, "path " + path + " is not served by the application (API: " + app.appPaths()
                        + ", non-application: " + app.nonApplicationPaths() + ")");
                return;
            }
            case APP -> {
                if (port != httpPort) {
                    error(file, where, path + " is served on the API port " + httpPort + ", not on " + port);
                }
            }
            case NON_APPLICATION -> checkNonApplicationPort(file, where, path, port, profile, env);
        }
        if (expectedHealth != null && !path.equals(app.healthPath(expectedHealth))) {
            error(file, where, "a " + expectedHealth + " probe must use " + app.healthPath(expectedHealth)
                    + ", not " + path);
        }
    }

    private void checkNonApplicationPort(String file, String where, String path, int port, String profile,
                                         Map<String, String> env) {
        int expected = app.nonApplicationPort(profile, env);
        if (port == expected) {
            return;
        }
        if (!app.managementEnabled() && port == app.managementPort(profile, env)) {
            pending(file, where, path + " on port " + port + " needs the management interface, which"
                    + " application.properties does not enable yet (quarkus.management.enabled): until then it is"
                    + " served on " + expected);
        } else {
            error(file, where, path + " is served on port " + expected + ", not on " + port);
        }
    }

    /** A port a gateway container listens on (container port, Compose ports/expose, EXPOSE). */
    private void checkGatewayPort(String file, String where, int port, String profile, Map<String, String> env) {
        int httpPort = app.httpPort(profile, env);
        int managementPort = app.managementPort(profile, env);
        if (port == httpPort || (app.managementEnabled() && port == managementPort)) {
            return;
        }
        if (port == managementPort) {
            pending(file, where, "port " + port + " is the management interface's, which application.properties"
                    + " does not enable yet (quarkus.management.enabled)");
        } else {
            error(file, where, "port " + port + " is not a port the gateway listens on (API " + httpPort
                    + (app.managementEnabled() ? ", management " + managementPort : "") + ")");
        }
    }

    /** The paths and ports a health-check command reaches: each GET after the /dev/tcp or URL that names its port. */
    private List<Map.Entry<String, Integer>> requestsIn(String command) {
        List<Map.Entry<String, Integer>> requests = new ArrayList<>();
        Matcher url = URL.matcher(command);
        while (url.find()) {
            if (url.group(3) != null) {
                int port = url.group(2) == null ? 80 : Integer.parseInt(url.group(2));
                requests.add(Map.entry(url.group(3), port));
            }
        }
        Matcher tcp = DEV_TCP.matcher(command);
        List<int[]> tcpPositions = new ArrayList<>();
        while (tcp.find()) {
            tcpPositions.add(new int[]{tcp.start(), Integer.parseInt(tcp.group(2))});
        }
        Matcher get = HTTP_GET.matcher(command);
        while (get.find()) {
            int port = -1;
            for (int[] position : tcpPositions) {
                if (position[0] < get.start()) {
                    port = position[1];
                }
            }
            requests.add(Map.entry(get.group(1), port));
        }
        return requests;
    }

    // ---- Compose --------------------------------------------------------------------------------------------------

    void checkCompose(String file, JsonNode compose) {
        JsonNode services = compose.path("services");
        if (!services.isObject() || services.isEmpty()) {
            error(file, "services", "no services");
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = services.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> service = it.next();
            String where = "services." + service.getKey();
            JsonNode spec = service.getValue();
            if (isGatewayImage(spec.path("image").asText("")) || spec.path("build").path("dockerfile").asText("")
                    .startsWith("src/main/docker/Dockerfile")) {
                checkComposeGateway(file, where, service.getKey(), spec);
            } else if (spec.path("image").asText("").startsWith("cloudflare/cloudflared")) {
                checkComposeCloudflared(file, where, spec, compose);
            }
        }
    }

    private void checkComposeGateway(String file, String where, String name, JsonNode spec) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode envFile : asList(spec.path("env_file"))) {
            String path = envFile.isObject() ? envFile.path("path").asText() : envFile.asText();
            if (path.equals("gateway.env")) {
                env.putAll(exampleValues);
            } else {
                error(file, where + ".env_file", "env file " + path + " is not gateway.env (a copy of"
                        + " gateway.env.example), so its variables cannot be checked");
            }
        }
        Map<String, String> own = composeEnvironment(spec.path("environment"));
        env.putAll(own);
        String profile = env.getOrDefault("QUARKUS_PROFILE", "prod");
        for (String variable : own.keySet()) {
            checkGatewayVariable(file, where + ".environment", variable, true);
        }
        composeGateways.put(name, new GatewayService(profile, env));

        for (JsonNode port : asList(spec.path("ports"))) {
            Integer target = composeContainerPort(port);
            if (target == null) {
                error(file, where + ".ports", "cannot read port mapping " + port);
            } else {
                checkGatewayPort(file, where + ".ports", target, profile, env);
            }
        }
        for (JsonNode port : asList(spec.path("expose"))) {
            checkGatewayPort(file, where + ".expose", Integer.parseInt(port.asText().replaceAll("/.*", "")),
                    profile, env);
        }

        JsonNode healthcheck = spec.path("healthcheck");
        if (healthcheck.isMissingNode()) {
            error(file, where, "a gateway service needs a health check");
        } else {
            String command = String.join(" ", asList(healthcheck.path("test")).stream().map(JsonNode::asText).toList());
            List<Map.Entry<String, Integer>> requests = requestsIn(command);
            if (requests.isEmpty()) {
                error(file, where + ".healthcheck", "no HTTP request found in the health check");
            }
            boolean health = false;
            for (Map.Entry<String, Integer> request : requests) {
                checkGatewayRequest(file, where + ".healthcheck", request.getKey(), request.getValue(), profile, env,
                        null);
                health |= request.getKey().equals(app.healthPath("live"))
                        || request.getKey().equals(app.healthPath("ready"));
            }
            if (!requests.isEmpty() && !health) {
                error(file, where + ".healthcheck", "the health check asks neither " + app.healthPath("live")
                        + " nor " + app.healthPath("ready"));
            }
        }

        Set<String> mounts = new LinkedHashSet<>();
        for (JsonNode volume : asList(spec.path("volumes"))) {
            String target = volume.isObject() ? volume.path("target").asText() : volume.asText().split(":")[1];
            mounts.add(target);
        }
        for (JsonNode tmpfs : asList(spec.path("tmpfs"))) {
            mounts.add(tmpfs.asText().split(":")[0]);
        }
        checkWritableDirectories(file, where, env, mounts, spec.path("read_only").asBoolean(false));

        if (!"dev".equals(profile)) {
            Duration drain = drainDeadline(env);
            JsonNode grace = spec.path("stop_grace_period");
            Duration stop = grace.isMissingNode() ? Duration.ofSeconds(10) : AppFacts.parseDuration(grace.asText());
            if (stop.compareTo(drain.plusSeconds(5)) < 0) {
                error(file, where + ".stop_grace_period", "Docker kills the gateway after " + stop.toSeconds()
                        + " s, before its drain deadline of " + drain.toSeconds() + " s (+5 s) is over");
            }
        }
    }

    private void checkComposeCloudflared(String file, String where, JsonNode spec, JsonNode compose) {
        List<String> command = asList(spec.path("command")).stream().map(JsonNode::asText).toList();
        if (command.size() == 1) {
            command = List.of(command.get(0).split("\\s+"));
        }
        if (!command.contains("tunnel") || !command.contains("run")) {
            error(file, where + ".command", "cloudflared must run `tunnel ... run`");
        }
        int tokenFile = command.indexOf("--token-file");
        Map<String, String> env = composeEnvironment(spec.path("environment"));
        for (String variable : env.keySet()) {
            if (!CLOUDFLARED_VARIABLES.contains(variable)) {
                error(file, where + ".environment", "variable " + variable + " is not one cloudflared reads");
            }
        }
        if (tokenFile >= 0) {
            String path = tokenFile + 1 < command.size() ? command.get(tokenFile + 1) : "";
            String secret = path.startsWith("/run/secrets/") ? path.substring("/run/secrets/".length()) : null;
            boolean mounted = secret != null && asList(spec.path("secrets")).stream()
                    .anyMatch(s -> secret.equals(s.isObject() ? s.path("target").asText(s.path("source").asText()) : s.asText()));
            if (!mounted || !compose.path("secrets").has(secret)) {
                error(file, where + ".command", "--token-file " + path + " is not a secret mounted into the service");
            }
        } else if (!command.contains("--token") && !env.containsKey("TUNNEL_TOKEN")) {
            error(file, where, "cloudflared gets no tunnel token (--token-file, --token or TUNNEL_TOKEN)");
        }
    }

    private static Integer composeContainerPort(JsonNode port) {
        if (port.isObject()) {
            return port.path("target").isNumber() ? port.path("target").asInt() : null;
        }
        if (port.isNumber()) {
            return port.asInt();
        }
        String text = port.asText().replaceAll("/(tcp|udp)$", "");
        String last = text.substring(text.lastIndexOf(':') + 1);
        return last.matches("\\d+") ? Integer.parseInt(last) : null;
    }

    private static Map<String, String> composeEnvironment(JsonNode environment) {
        Map<String, String> env = new LinkedHashMap<>();
        if (environment.isObject()) {
            environment.fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
        } else if (environment.isArray()) {
            for (JsonNode entry : environment) {
                String text = entry.asText();
                int eq = text.indexOf('=');
                env.put(eq < 0 ? text : text.substring(0, eq), eq < 0 ? "" : text.substring(eq + 1));
            }
        }
        return env;
    }

    /** URLs that name a Compose gateway service (the simulator's in gateway.env.example): its API port and /v1. */
    void checkServiceUrls(String file, String text) {
        Matcher url = URL.matcher(text);
        while (url.find()) {
            GatewayService service = composeGateways.get(url.group(1));
            if (service == null) {
                continue;
            }
            int port = url.group(2) == null ? 80 : Integer.parseInt(url.group(2));
            int httpPort = app.httpPort(service.profile(), service.env());
            if (port != httpPort) {
                error(file, url.group(), "service " + url.group(1) + " serves its API on port " + httpPort
                        + ", not " + port);
            }
        }
    }

    // ---- Kubernetes -----------------------------------------------------------------------------------------------

    void checkKubernetes(Map<String, List<JsonNode>> documentsByFile) {
        Map<String, Map<String, String>> configMaps = new HashMap<>();
        Map<String, Map<String, String>> secrets = new HashMap<>();
        Map<String, JsonNode> deployments = new LinkedHashMap<>();
        Map<String, String> deploymentFiles = new HashMap<>();
        for (Map.Entry<String, List<JsonNode>> entry : documentsByFile.entrySet()) {
            for (JsonNode document : entry.getValue()) {
                String kind = document.path("kind").asText();
                String name = document.path("metadata").path("name").asText();
                switch (kind) {
                    case "ConfigMap" -> configMaps.put(name, stringMap(document.path("data")));
                    case "Secret" -> {
                        Map<String, String> keys = stringMap(document.path("stringData"));
                        document.path("data").fieldNames().forEachRemaining(k -> keys.put(k, ""));
                        secrets.put(name, keys);
                    }
                    case "Deployment", "StatefulSet" -> {
                        deployments.put(name, document);
                        deploymentFiles.put(name, entry.getKey());
                    }
                    default -> { }
                }
            }
        }
        Map<String, Map<String, Integer>> podPortsByDeployment = new HashMap<>();
        Map<String, Map<String, Integer>> podPortTargets = new HashMap<>();
        for (Map.Entry<String, JsonNode> deployment : deployments.entrySet()) {
            String file = deploymentFiles.get(deployment.getKey());
            Map<String, Integer> namedPorts = new HashMap<>();
            Map<String, Integer> targets = new HashMap<>();
            checkDeployment(file, deployment.getKey(), deployment.getValue(), configMaps, secrets, namedPorts, targets);
            podPortsByDeployment.put(deployment.getKey(), namedPorts);
            podPortTargets.put(deployment.getKey(), targets);
        }
        for (Map.Entry<String, List<JsonNode>> entry : documentsByFile.entrySet()) {
            for (JsonNode document : entry.getValue()) {
                String kind = document.path("kind").asText();
                if (kind.equals("Service")) {
                    checkService(entry.getKey(), document, deployments, podPortsByDeployment);
                } else if (kind.equals("PodDisruptionBudget")) {
                    JsonNode selector = document.path("spec").path("selector").path("matchLabels");
                    boolean selects = deployments.values().stream().anyMatch(d -> selects(selector, podLabels(d)));
                    if (!selects) {
                        error(entry.getKey(), "PodDisruptionBudget " + document.path("metadata").path("name").asText(),
                                "selects no pod of the bundle's Deployments");
                    }
                }
            }
        }
    }

    private void checkDeployment(String file, String name, JsonNode deployment,
                                 Map<String, Map<String, String>> configMaps, Map<String, Map<String, String>> secrets,
                                 Map<String, Integer> namedPorts, Map<String, Integer> targets) {
        JsonNode pod = deployment.path("spec").path("template").path("spec");
        for (JsonNode container : pod.path("containers")) {
            String where = "Deployment " + name + " container " + container.path("name").asText();
            String image = container.path("image").asText();
            for (JsonNode port : container.path("ports")) {
                if (port.has("name")) {
                    namedPorts.put(port.path("name").asText(), port.path("containerPort").asInt());
                }
                targets.put(String.valueOf(port.path("containerPort").asInt()), port.path("containerPort").asInt());
            }
            if (isGatewayImage(image)) {
                checkK8sGateway(file, where, pod, container, configMaps, secrets, namedPorts);
            } else if (image.startsWith("cloudflare/cloudflared")) {
                checkK8sCloudflared(file, where, container, namedPorts);
            }
        }
    }

    private void checkK8sGateway(String file, String where, JsonNode pod, JsonNode container,
                                 Map<String, Map<String, String>> configMaps, Map<String, Map<String, String>> secrets,
                                 Map<String, Integer> namedPorts) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode from : container.path("envFrom")) {
            if (from.has("configMapRef")) {
                String ref = from.path("configMapRef").path("name").asText();
                Map<String, String> data = configMaps.get(ref);
                if (data == null) {
                    error(file, where + ".envFrom", "ConfigMap " + ref + " is not in the bundle");
                } else {
                    data.forEach((k, v) -> checkGatewayVariable(file, "ConfigMap " + ref + " (" + where + ")", k, true));
                    env.putAll(data);
                }
            }
            if (from.has("secretRef")) {
                String ref = from.path("secretRef").path("name").asText();
                Map<String, String> data = secrets.get(ref);
                if (data == null) {
                    error(file, where + ".envFrom", "Secret " + ref + " is not in the bundle");
                } else {
                    data.forEach((k, v) -> checkGatewayVariable(file, "Secret " + ref + " (" + where + ")", k, true));
                    env.putAll(data);
                }
            }
        }
        for (JsonNode variable : container.path("env")) {
            String variableName = variable.path("name").asText();
            checkGatewayVariable(file, where + ".env", variableName, true);
            env.put(variableName, variable.path("value").asText(""));
        }
        k8sGatewayEnv = env;
        String profile = env.getOrDefault("QUARKUS_PROFILE", "prod");

        for (JsonNode port : container.path("ports")) {
            checkGatewayPort(file, where + ".ports", port.path("containerPort").asInt(), profile, env);
        }
        Map<String, String> probes = Map.of("livenessProbe", "live", "readinessProbe", "ready", "startupProbe", "started");
        for (Map.Entry<String, String> probe : probes.entrySet()) {
            JsonNode spec = container.path(probe.getKey());
            if (spec.isMissingNode()) {
                error(file, where, "no " + probe.getKey());
                continue;
            }
            JsonNode get = spec.path("httpGet");
            Integer port = resolvePort(get.path("port"), namedPorts);
            if (port == null) {
                error(file, where + "." + probe.getKey(), "port " + get.path("port").asText() + " is not a container port");
                continue;
            }
            checkGatewayRequest(file, where + "." + probe.getKey(), get.path("path").asText(), port, profile, env,
                    probe.getValue());
        }

        Set<String> mounts = new LinkedHashSet<>();
        for (JsonNode mount : container.path("volumeMounts")) {
            mounts.add(mount.path("mountPath").asText());
        }
        checkWritableDirectories(file, where, env, mounts,
                container.path("securityContext").path("readOnlyRootFilesystem").asBoolean(false));

        Duration drain = drainDeadline(env);
        long preStop = container.path("lifecycle").path("preStop").path("sleep").path("seconds").asLong(0);
        JsonNode grace = pod.path("terminationGracePeriodSeconds");
        long graceSeconds = grace.isMissingNode() ? 30 : grace.asLong();
        if (graceSeconds < preStop + drain.toSeconds() + 5) {
            error(file, where, "terminationGracePeriodSeconds " + graceSeconds + " is shorter than the preStop pause ("
                    + preStop + " s) + the drain deadline (" + drain.toSeconds() + " s) + 5 s");
        }
    }

    private void checkK8sCloudflared(String file, String where, JsonNode container, Map<String, Integer> namedPorts) {
        List<String> args = new ArrayList<>();
        container.path("command").forEach(a -> args.add(a.asText()));
        container.path("args").forEach(a -> args.add(a.asText()));
        if (!args.contains("tunnel") || !args.contains("run")) {
            error(file, where, "cloudflared must run `tunnel ... run`");
        }
        Integer metricsPort = null;
        int metrics = args.indexOf("--metrics");
        if (metrics >= 0 && metrics + 1 < args.size()) {
            String address = args.get(metrics + 1);
            metricsPort = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        }
        boolean token = args.contains("--token") || args.contains("--token-file");
        for (JsonNode variable : container.path("env")) {
            String name = variable.path("name").asText();
            if (!CLOUDFLARED_VARIABLES.contains(name)) {
                error(file, where + ".env", "variable " + name + " is not one cloudflared reads");
            }
            token |= name.equals("TUNNEL_TOKEN");
        }
        if (!token) {
            error(file, where, "cloudflared gets no tunnel token");
        }
        for (String probeName : List.of("readinessProbe", "livenessProbe")) {
            JsonNode get = container.path(probeName).path("httpGet");
            if (get.isMissingNode()) {
                error(file, where, "no " + probeName);
                continue;
            }
            Integer port = resolvePort(get.path("port"), namedPorts);
            String path = get.path("path").asText();
            if (!CLOUDFLARED_PATHS.contains(path)) {
                error(file, where + "." + probeName, "cloudflared serves no " + path + " (" + CLOUDFLARED_PATHS + ")");
            }
            if (port == null || metricsPort == null || !port.equals(metricsPort)) {
                error(file, where + "." + probeName, "probe port " + get.path("port").asText()
                        + " is not cloudflared's --metrics port " + metricsPort);
            }
        }
    }

    private void checkService(String file, JsonNode service, Map<String, JsonNode> deployments,
                              Map<String, Map<String, Integer>> namedPortsByDeployment) {
        String name = service.path("metadata").path("name").asText();
        String where = "Service " + name;
        JsonNode selector = service.path("spec").path("selector");
        List<String> selected = new ArrayList<>();
        deployments.forEach((deployment, spec) -> {
            if (selects(selector, podLabels(spec))) {
                selected.add(deployment);
            }
        });
        if (selected.isEmpty()) {
            error(file, where, "selects no pod of the bundle's Deployments");
            return;
        }
        Map<Integer, Integer> reaches = new LinkedHashMap<>();
        for (JsonNode port : service.path("spec").path("ports")) {
            JsonNode target = port.has("targetPort") ? port.path("targetPort") : port.path("port");
            for (String deployment : selected) {
                JsonNode pod = deployments.get(deployment).path("spec").path("template").path("spec");
                Set<Integer> containerPorts = new TreeSet<>();
                pod.path("containers").forEach(c -> c.path("ports").forEach(p -> containerPorts.add(p.path("containerPort").asInt())));
                Integer resolved = resolvePort(target, namedPortsByDeployment.get(deployment));
                if (resolved == null || !containerPorts.contains(resolved)) {
                    error(file, where + " port " + port.path("port").asText(), "targetPort " + target.asText()
                            + " is not a container port of Deployment " + deployment + " " + containerPorts);
                } else {
                    reaches.put(port.path("port").asInt(), resolved);
                }
            }
        }
        k8sServicePorts.put(name, reaches);
    }

    private static Integer resolvePort(JsonNode port, Map<String, Integer> namedPorts) {
        if (port.isNumber()) {
            return port.asInt();
        }
        if (port.asText().matches("\\d+")) {
            return Integer.parseInt(port.asText());
        }
        return namedPorts == null ? null : namedPorts.get(port.asText());
    }

    private static Map<String, String> podLabels(JsonNode deployment) {
        return stringMap(deployment.path("spec").path("template").path("metadata").path("labels"));
    }

    private static boolean selects(JsonNode selector, Map<String, String> labels) {
        if (!selector.isObject() || selector.isEmpty()) {
            return false;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = selector.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!entry.getValue().asText().equals(labels.get(entry.getKey()))) {
                return false;
            }
        }
        return true;
    }

    // ---- cloudflared configuration --------------------------------------------------------------------------------

    void checkCloudflaredConfig(String file, JsonNode config) {
        config.fieldNames().forEachRemaining(key -> {
            if (!CLOUDFLARED_CONFIG_KEYS.contains(key)) {
                error(file, key, "not a cloudflared configuration key");
            }
        });
        checkOriginRequest(file, "originRequest", config.path("originRequest"));
        Duration tunnelKeepAlive = goDuration(config.path("originRequest").path("keepAliveTimeout").asText("90s"));
        JsonNode ingress = config.path("ingress");
        if (!ingress.isArray() || ingress.isEmpty()) {
            error(file, "ingress", "no ingress rules");
            return;
        }
        JsonNode last = ingress.get(ingress.size() - 1);
        if (last.has("hostname") || last.has("path") || !last.path("service").asText().startsWith("http_status:404")) {
            error(file, "ingress[" + (ingress.size() - 1) + "]", "the last rule must be the catch-all"
                    + " `service: http_status:404`");
        }
        Set<String> mustPass = new TreeSet<>(app.appPaths());
        mustPass.removeIf(p -> p.startsWith("/admin"));
        Set<String> mustNotPass = new TreeSet<>(app.nonApplicationPaths());
        app.appPaths().stream().filter(p -> p.startsWith("/admin")).forEach(mustNotPass::add);
        // Whatever the management root becomes, /q/* on the API port must stay closed too.
        mustNotPass.addAll(List.of("/q/health", "/q/health/live", "/q/metrics", "/q/dev-ui", "/admin/backends"));
        // The operator console is private like /admin: its page is harmless alone, but it is where the token is typed.
        mustPass.removeIf(p -> p.startsWith("/console"));
        mustNotPass.addAll(List.of("/console", "/console/", "/console/console.js"));
        for (int i = 0; i < ingress.size(); i++) {
            JsonNode rule = ingress.get(i);
            String where = "ingress[" + i + "]";
            checkOriginRequest(file, where + ".originRequest", rule.path("originRequest"));
            String service = rule.path("service").asText();
            Matcher url = URL.matcher(service);
            if (!url.lookingAt()) {
                continue;
            }
            String host = url.group(1);
            int port = url.group(2) == null ? 80 : Integer.parseInt(url.group(2));
            checkIngressTarget(file, where, host, port);
            Duration keepAlive = rule.path("originRequest").has("keepAliveTimeout")
                    ? goDuration(rule.path("originRequest").path("keepAliveTimeout").asText()) : tunnelKeepAlive;
            checkIdleTimeouts(file, where, host, keepAlive);
            if (!rule.has("path")) {
                error(file, where, "a rule to the gateway without `path` passes every path, /q/* and /admin/* too");
                continue;
            }
            Pattern path;
            try {
                path = Pattern.compile(rule.path("path").asText());
            } catch (PatternSyntaxException e) {
                error(file, where + ".path", "not a regular expression: " + e.getMessage());
                continue;
            }
            for (String served : mustPass) {
                // A template segment ({route}) stands for a real value such as a route name.
                if (!path.matcher(served.replaceAll("\\{[^}]+}", "chat")).find()) {
                    error(file, where + ".path", "the public rule does not pass " + served);
                }
            }
            for (String closed : mustNotPass) {
                if (path.matcher(closed).find()) {
                    error(file, where + ".path", "the public rule passes " + closed + ", which must not be public");
                }
            }
        }
    }

    private void checkOriginRequest(String file, String where, JsonNode originRequest) {
        originRequest.fieldNames().forEachRemaining(key -> {
            if (!CLOUDFLARED_ORIGIN_OPTIONS.contains(key)) {
                error(file, where + "." + key, "not a cloudflared origin parameter");
            }
        });
    }

    /**
     * cloudflared reuses an idle origin connection for up to its keepAliveTimeout; if the gateway closes idle
     * connections sooner, cloudflared can send a request on a connection the gateway is closing, and a POST cannot be
     * replayed. The gateway's idle timeout (its environment in the bundle, else application.properties, else the
     * default) must be longer.
     */
    private void checkIdleTimeouts(String file, String where, String host, Duration keepAlive) {
        GatewayService compose = composeGateways.get(host);
        Map<String, String> env = compose != null ? compose.env() : k8sServicePorts.containsKey(host) ? k8sGatewayEnv
                : Map.of();
        String profile = env.getOrDefault("QUARKUS_PROFILE", "prod");
        String value = env.get("GATEWAY_CONNECTIONS_IDLE_TIMEOUT");
        if (value == null) {
            value = app.property(profile, "gateway.connections.idle-timeout").orElse(app.idleTimeoutDefault());
        }
        Duration idle = goDuration(value);
        if (idle.compareTo(keepAlive) <= 0) {
            error(file, where + ".originRequest.keepAliveTimeout", "the tunnel keeps idle connections " + keepAlive
                    .toSeconds() + " s, but the gateway behind " + host + " closes them after " + idle.toSeconds()
                    + " s (gateway.connections.idle-timeout): it must be longer than the tunnel's keep-alive");
        }
    }

    /** A Go or Quarkus duration: {@code 90s}, {@code 2m}, {@code 1h30m}, {@code 500ms}, {@code PT2M}. */
    static Duration goDuration(String text) {
        String t = text.strip();
        if (t.startsWith("P") || t.startsWith("p")) {
            return Duration.parse(t);
        }
        Matcher part = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)").matcher(t);
        Duration total = Duration.ZERO;
        int consumed = 0;
        while (part.find() && part.start() == consumed) {
            double n = Double.parseDouble(part.group(1));
            long millis = switch (part.group(2)) {
                case "h" -> (long) (n * 3_600_000);
                case "m" -> (long) (n * 60_000);
                case "s" -> (long) (n * 1000);
                default -> (long) n;
            };
            total = total.plusMillis(millis);
            consumed = part.end();
        }
        if (consumed != t.length() || t.isEmpty()) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        return total;
    }

    /** The ingress target must be the gateway's API port, through a Compose service or a Kubernetes Service. */
    private void checkIngressTarget(String file, String where, String host, int port) {
        boolean known = false;
        GatewayService compose = composeGateways.get(host);
        if (compose != null) {
            known = true;
            int httpPort = app.httpPort(compose.profile(), compose.env());
            if (port != httpPort) {
                error(file, where + ".service", "Compose service " + host + " serves the API on " + httpPort
                        + ", not " + port);
            }
        }
        Map<Integer, Integer> service = k8sServicePorts.get(host);
        if (service != null) {
            known = true;
            Integer target = service.get(port);
            int httpPort = app.httpPort(k8sGatewayEnv.getOrDefault("QUARKUS_PROFILE", "prod"), k8sGatewayEnv);
            if (target == null || target != httpPort) {
                error(file, where + ".service", "Kubernetes Service " + host + " port " + port
                        + " does not reach the API port " + httpPort);
            }
        }
        if (!known) {
            error(file, where + ".service", "host " + host + " is neither a Compose gateway service nor a Kubernetes"
                    + " Service of the bundle");
        }
    }

    // ---- Dockerfiles ----------------------------------------------------------------------------------------------

    void checkDockerfile(String file, String text) {
        String joined = text.replaceAll("\\\\\\r?\\n", " ");
        Map<String, String> env = new LinkedHashMap<>();
        Set<String> volumes = new LinkedHashSet<>();
        List<Integer> exposed = new ArrayList<>();
        for (String line : joined.split("\\r?\\n")) {
            String trimmed = line.trim();
            if (trimmed.startsWith("ENV ")) {
                env.putAll(parseEnvInstruction(trimmed.substring(4)));
            } else if (trimmed.startsWith("VOLUME ")) {
                Matcher path = Pattern.compile("/[^\\s\",\\]]+").matcher(trimmed.substring(7));
                while (path.find()) {
                    volumes.add(path.group());
                }
            } else if (trimmed.startsWith("EXPOSE ")) {
                for (String port : trimmed.substring(7).trim().split("\\s+")) {
                    exposed.add(Integer.parseInt(port.replaceAll("/.*", "")));
                }
            }
        }
        if (!text.contains("docker build")) {
            error(file, "header", "the header must say how to build the image (docker build ...)");
        }
        for (String name : env.keySet()) {
            checkGatewayVariable(file, "ENV " + name, name, false);
        }
        for (int port : exposed) {
            checkGatewayPort(file, "EXPOSE " + port, port, "prod", env);
        }
        for (String variable : List.of("GATEWAY_LEDGER_PATH", "GATEWAY_STATE_DIR")) {
            String value = env.get(variable);
            if (value == null) {
                error(file, "ENV", variable + " is not set");
                continue;
            }
            String directory = variable.equals("GATEWAY_LEDGER_PATH") ? parent(value) : value;
            if (!volumes.contains(directory)) {
                error(file, "VOLUME", directory + " (" + variable + ") is not a VOLUME " + volumes);
            }
            String example = exampleValues.get(variable);
            if (example != null && !example.equals(value)) {
                error(file, "ENV " + variable, "the image says " + value + ", gateway.env.example " + example);
            }
        }
    }

    private static Map<String, String> parseEnvInstruction(String arguments) {
        Map<String, String> env = new LinkedHashMap<>();
        Matcher pair = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*'|\\S*)").matcher(arguments);
        boolean any = false;
        while (pair.find()) {
            any = true;
            String value = pair.group(2);
            if (value.length() >= 2 && (value.startsWith("\"") || value.startsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            }
            env.put(pair.group(1), value);
        }
        if (!any) {
            String[] legacy = arguments.trim().split("\\s+", 2);
            env.put(legacy[0], legacy.length > 1 ? legacy[1] : "");
        }
        return env;
    }

    // ---- shared ---------------------------------------------------------------------------------------------------

    /** With a read-only root, the ledger's and state directory's paths and /tmp must be on mounted volumes. */
    private void checkWritableDirectories(String file, String where, Map<String, String> env, Set<String> mounts,
                                          boolean readOnlyRoot) {
        Map<String, String> directories = new LinkedHashMap<>();
        Optional.ofNullable(env.get("GATEWAY_LEDGER_PATH")).filter(v -> !v.isBlank())
                .ifPresent(v -> directories.put("GATEWAY_LEDGER_PATH", parent(v)));
        Optional.ofNullable(env.get("GATEWAY_STATE_DIR")).filter(v -> !v.isBlank())
                .ifPresent(v -> directories.put("GATEWAY_STATE_DIR", v));
        if (readOnlyRoot) {
            directories.put("JVM and Vert.x temporary files", "/tmp");
        }
        directories.forEach((what, directory) -> {
            boolean mounted = mounts.stream().anyMatch(m -> directory.equals(m) || directory.startsWith(m + "/"));
            if (!mounted) {
                error(file, where, directory + " (" + what + ") is not on a mounted volume");
            }
        });
    }

    private Duration drainDeadline(Map<String, String> env) {
        String value = env.get("GATEWAY_DRAIN_DEADLINE");
        return value == null || value.isBlank() ? AppFacts.DEFAULT_DRAIN_DEADLINE : AppFacts.parseDuration(value);
    }

    static boolean isGatewayImage(String image) {
        String name = image.contains("/") ? image.substring(image.lastIndexOf('/') + 1) : image;
        return name.equals("magic-gateway") || name.startsWith("magic-gateway:") || name.startsWith("magic-gateway@");
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    private static List<JsonNode> asList(JsonNode node) {
        List<JsonNode> list = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(list::add);
        } else if (!node.isMissingNode() && !node.isNull()) {
            list.add(node);
        }
        return list;
    }

    private static Map<String, String> stringMap(JsonNode node) {
        Map<String, String> map = new LinkedHashMap<>();
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
        }
        return map;
    }

    // ---- Grafana dashboard ----------------------------------------------------------------------------------------

    private static final Set<String> PROMQL_WORDS = Set.of("sum", "min", "max", "avg", "count", "rate", "irate",
            "increase", "delta", "deriv", "histogram_quantile", "ceil", "floor", "round", "abs", "vector", "scalar",
            "time", "topk", "bottomk", "sort", "sort_desc", "clamp", "clamp_min", "clamp_max", "avg_over_time",
            "max_over_time", "min_over_time", "sum_over_time", "count_over_time", "quantile_over_time", "label_replace",
            "label_join", "absent", "changes", "resets", "and", "or", "unless", "offset", "bool", "group", "stddev",
            "stdvar", "quantile", "count_values", "by", "without", "on", "ignoring", "group_left", "group_right",
            "inf", "nan", "le");

    /** Metric names a PromQL expression (or Grafana's label_values(...)) queries. */
    static Set<String> metricsIn(String expression) {
        Set<String> metrics = new TreeSet<>();
        String text = expression;
        Matcher labelValues = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)[^)]*\\)").matcher(text);
        while (labelValues.find()) {
            metrics.add(labelValues.group(1));
        }
        text = labelValues.replaceAll(" ");
        text = text.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ")      // string literals
                .replaceAll("\\{[^}]*}", " ")                         // label matchers
                .replaceAll("\\[[^]]*]", " ")                         // ranges
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\$\\{?[A-Za-z_][A-Za-z0-9_]*}?", " ");  // Grafana variables
        Matcher identifier = Pattern.compile("(?<![A-Za-z0-9_.])([a-zA-Z_:][a-zA-Z0-9_:]*)").matcher(text);
        while (identifier.find()) {
            String word = identifier.group(1);
            if (!PROMQL_WORDS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
                metrics.add(word);
            }
        }
        return metrics;
    }

    /** Every PromQL expression of a Grafana dashboard (targets' expr, variables' query and definition). */
    static Map<String, String> dashboardExpressions(JsonNode node, String where, Map<String, String> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String key = field.getKey();
                JsonNode value = field.getValue();
                String here = where + "." + key;
                if (value.isTextual() && (key.equals("expr") || key.equals("definition")
                        || (key.equals("query") && !value.asText().equals("prometheus")))) {
                    out.put(here, value.asText());
                } else {
                    dashboardExpressions(value, here, out);
                }
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                dashboardExpressions(node.get(i), where + "[" + i + "]", out);
            }
        }
        return out;
    }

    private static final Pattern METER = Pattern.compile(
            "\\b(Counter|FunctionCounter|Timer|FunctionTimer|LongTaskTimer|DistributionSummary|Gauge|TimeGauge)"
                    + "\\s*\\.\\s*builder\\(\\s*(?:\"([^\"]+)\")?");
    private static final Pattern DOTTED_LITERAL = Pattern.compile("\"([a-z][a-z0-9_]*(?:\\.[a-z0-9_]+)+)\"");

    /**
     * Prometheus series names of the meters registered in the given Java sources (Micrometer's naming). A meter's
     * name is the builder's literal argument or, when the builder takes a computed name
     * ({@code counter(List.of("gateway.retries", ...), key -> Counter.builder(key.get(0)))}), the dotted literals of
     * the same statement before it.
     */
    static Set<String> prometheusSeries(String javaSource) {
        Set<String> series = new TreeSet<>();
        for (String statement : javaSource.split(";")) {
            Matcher meter = METER.matcher(statement);
            int previous = 0;
            while (meter.find()) {
                List<String> names = new ArrayList<>();
                if (meter.group(2) != null) {
                    names.add(meter.group(2));
                } else {
                    Matcher literal = DOTTED_LITERAL.matcher(statement.substring(previous, meter.start()));
                    while (literal.find()) {
                        names.add(literal.group(1));
                    }
                }
                previous = meter.end();
                // A base unit (baseUnit(BaseUnits.BYTES)) becomes a suffix of the Prometheus name.
                String unit = statement.contains("BaseUnits.BYTES") ? "_bytes" : "";
                for (String name : names) {
                    addSeries(series, meter.group(1), name + unit);
                }
            }
        }
        return series;
    }

    private static void addSeries(Set<String> series, String type, String name) {
        String base = name.replaceAll("[^a-zA-Z0-9_:]", "_");
        switch (type) {
            case "Counter", "FunctionCounter" -> series.add(base.endsWith("_total") ? base : base + "_total");
            case "Timer", "FunctionTimer" -> {
                for (String suffix : List.of("_count", "_sum", "_bucket", "_max")) {
                    series.add(base + "_seconds" + suffix);
                }
            }
            case "LongTaskTimer" -> {
                for (String suffix : List.of("_active_count", "_duration_sum", "_max")) {
                    series.add(base + "_seconds" + suffix);
                }
            }
            case "DistributionSummary" -> {
                for (String suffix : List.of("_count", "_sum", "_bucket", "_max")) {
                    series.add(base + suffix);
                }
            }
            case "TimeGauge" -> series.add(base + "_seconds");
            default -> series.add(base);
        }
    }
}

package org.canonic.gateway.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What the application really serves and reads, taken from the build itself rather than written down a second time:
 * {@code application.properties} (variables, ports, management interface, health and metrics paths), the compiled
 * JAX-RS resources and proxied endpoints (served paths), {@code GatewayConfig} (the {@code GATEWAY_*} variable form of
 * every {@code gateway.*} property) and the configuration model every Quarkus extension on the classpath ships
 * ({@code META-INF/quarkus-config-doc/quarkus-config-model.json}: documented {@code QUARKUS_*} variables and whether
 * they can still be set at run time).
 */
final class AppFacts {

    /**
     * Variables read by the container images or the JVM rather than by the application's configuration: the JVM
     * image's entrypoint (run-java.sh) and the locale.
     */
    static final Set<String> IMAGE_VARIABLES = Set.of("JAVA_OPTS", "JAVA_OPTS_APPEND", "JAVA_MAX_MEM_RATIO",
            "JAVA_INITIAL_MEM_RATIO", "JAVA_APP_JAR", "LANGUAGE");

    /**
     * Variables issue 11 announces and the deploy bundle already sets, which the application does not read yet. While
     * application.properties does not reference them they are reported as pending, not as errors; once it does, they
     * are ordinary variables and this entry is dead weight (remove it then).
     */
    static final Map<String, String> ANNOUNCED_VARIABLES = Map.of(
            "GATEWAY_STATE_DIR", "the gateway's state directory (issue 11)",
            "GATEWAY_DRAIN_DEADLINE", "how long the gateway drains in-flight requests on SIGTERM, 30 s by default (issue 11)");

    /** The drain deadline the gateway is announced to use when GATEWAY_DRAIN_DEADLINE is not set. */
    static final Duration DEFAULT_DRAIN_DEADLINE = Duration.ofSeconds(30);

    enum Verdict { KNOWN, PENDING, BUILD_TIME, UNKNOWN }

    private final Properties properties;
    private final Set<String> referencedVariables;
    private final List<Pattern> gatewayVariables;
    /** Documented Quarkus variable (as a pattern: map keys are wildcards) to the property's phase. */
    private final Map<Pattern, String> quarkusVariables;
    private final Set<String> appPaths;
    private final boolean healthExtension;
    private final boolean prometheusExtension;

    private AppFacts(Properties properties, List<Pattern> gatewayVariables, Map<Pattern, String> quarkusVariables,
                     Set<String> appPaths, boolean healthExtension, boolean prometheusExtension) {
        this.properties = properties;
        this.referencedVariables = referencedVariables(properties);
        this.gatewayVariables = gatewayVariables;
        this.quarkusVariables = quarkusVariables;
        this.appPaths = appPaths;
        this.healthExtension = healthExtension;
        this.prometheusExtension = prometheusExtension;
    }

    /** The facts of this build: the repository's application.properties and the classes on the test classpath. */
    static AppFacts load(Path repositoryRoot) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(
                repositoryRoot.resolve("src/main/resources/application.properties"))) {
            properties.load(reader);
        }
        return new AppFacts(properties, gatewayVariablePatterns(), quarkusVariablePatterns(), servedAppPaths(),
                present("io.smallrye.health.SmallRyeHealthReporter"),
                present("io.micrometer.prometheusmetrics.PrometheusMeterRegistry")
                        || present("io.micrometer.prometheus.PrometheusMeterRegistry"));
    }

    /** The same facts with some properties changed, as if application.properties said so (for self-tests). */
    AppFacts with(Map<String, String> changed) {
        Properties copy = new Properties();
        copy.putAll(properties);
        changed.forEach((key, value) -> {
            if (value == null) {
                copy.remove(key);
            } else {
                copy.setProperty(key, value);
            }
        });
        return new AppFacts(copy, gatewayVariables, quarkusVariables, appPaths, healthExtension, prometheusExtension);
    }

    // ---- configuration values -------------------------------------------------------------------------------------

    /** The default of gateway.connections.idle-timeout, as GuardConfig declares it. */
    String idleTimeoutDefault() {
        try {
            Class<?> connections = Class.forName("org.canonic.gateway.config.GuardConfig$Connections");
            for (java.lang.annotation.Annotation annotation : connections.getMethod("idleTimeout").getAnnotations()) {
                if (annotation.annotationType().getSimpleName().equals("WithDefault")) {
                    return (String) annotation.annotationType().getMethod("value").invoke(annotation);
                }
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("GuardConfig.Connections.idleTimeout moved: update AppFacts", e);
        }
        throw new IllegalStateException("gateway.connections.idle-timeout has no default");
    }

    /** A property as the given profile sees it in application.properties ({@code %profile.name} first). */
    Optional<String> property(String profile, String name) {
        String value = properties.getProperty("%" + profile + "." + name);
        if (value == null) {
            value = properties.getProperty(name);
        }
        return Optional.ofNullable(value).map(String::trim);
    }

    /** {@code quarkus.management.enabled}: a build-time property, so the prod profile's value is the one built in. */
    boolean managementEnabled() {
        return property("prod", "quarkus.management.enabled").map(Boolean::parseBoolean).orElse(false);
    }

    /** The API port of a gateway started in {@code profile} with {@code env}. */
    int httpPort(String profile, Map<String, String> env) {
        String fromEnv = env.get("QUARKUS_HTTP_PORT");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Integer.parseInt(fromEnv.trim());
        }
        return property(profile, "quarkus.http.port").map(Integer::parseInt).orElse(8080);
    }

    /** The management interface's port (where /q/* is served once the interface is enabled). */
    int managementPort(String profile, Map<String, String> env) {
        String fromEnv = env.get("QUARKUS_MANAGEMENT_PORT");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Integer.parseInt(fromEnv.trim());
        }
        return property(profile, "quarkus.management.port").map(Integer::parseInt).orElse(9000);
    }

    /** The port that serves /q/* now: the management port when the interface is enabled, else the API port. */
    int nonApplicationPort(String profile, Map<String, String> env) {
        return managementEnabled() ? managementPort(profile, env) : httpPort(profile, env);
    }

    // ---- served paths ---------------------------------------------------------------------------------------------

    /** Paths served on the API port: the proxied endpoints and the JAX-RS resources. */
    Set<String> appPaths() {
        return appPaths;
    }

    /** Root of the non-application endpoints: the management root path, or the HTTP non-application root. */
    String nonApplicationRoot() {
        if (managementEnabled()) {
            return join("/", property("prod", "quarkus.management.root-path").orElse("/q"));
        }
        String root = property("prod", "quarkus.http.root-path").orElse("/");
        return join(root, property("prod", "quarkus.http.non-application-root-path").orElse("q"));
    }

    String healthPath(String kind) {
        String root = join(nonApplicationRoot(), property("prod", "quarkus.smallrye-health.root-path").orElse("health"));
        return switch (kind) {
            case "live" -> join(root, property("prod", "quarkus.smallrye-health.liveness-path").orElse("live"));
            case "ready" -> join(root, property("prod", "quarkus.smallrye-health.readiness-path").orElse("ready"));
            case "started" -> join(root, property("prod", "quarkus.smallrye-health.startup-path").orElse("started"));
            default -> root;
        };
    }

    String metricsPath() {
        return join(nonApplicationRoot(), property("prod", "quarkus.micrometer.export.prometheus.path").orElse("metrics"));
    }

    /** Paths served where /q/* is (health and metrics), given the extensions on the classpath. */
    Set<String> nonApplicationPaths() {
        Set<String> paths = new TreeSet<>();
        if (healthExtension) {
            for (String kind : List.of("all", "live", "ready", "started")) {
                paths.add(healthPath(kind));
            }
        }
        if (prometheusExtension) {
            paths.add(metricsPath());
        }
        return paths;
    }

    /** Where a path is served: on the API port, with /q/* (management), or not at all. */
    enum PathKind { APP, NON_APPLICATION, UNKNOWN }

    PathKind kindOf(String path) {
        String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        if (appPaths.contains(bare)) {
            return PathKind.APP;
        }
        if (nonApplicationPaths().contains(bare)) {
            return PathKind.NON_APPLICATION;
        }
        return PathKind.UNKNOWN;
    }

    static String join(String base, String path) {
        if (path.startsWith("/")) {
            return normalize(path);
        }
        return normalize(base + "/" + path);
    }

    private static String normalize(String path) {
        String p = path.replaceAll("/+", "/");
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    // ---- variables ------------------------------------------------------------------------------------------------

    /** Whether the application (or the image that runs it) reads a variable. */
    Verdict verdict(String name) {
        if (referencedVariables.contains(name) || IMAGE_VARIABLES.contains(name)) {
            return Verdict.KNOWN;
        }
        for (Pattern pattern : gatewayVariables) {
            if (pattern.matcher(name).matches()) {
                return Verdict.KNOWN;
            }
        }
        String phase = null;
        for (Map.Entry<Pattern, String> entry : quarkusVariables.entrySet()) {
            if (entry.getKey().matcher(name).matches()) {
                phase = entry.getValue();
                if ("RUN_TIME".equals(phase)) {
                    return Verdict.KNOWN;
                }
            }
        }
        if (phase != null) {
            return Verdict.BUILD_TIME;
        }
        return ANNOUNCED_VARIABLES.containsKey(name) ? Verdict.PENDING : Verdict.UNKNOWN;
    }

    private static final Pattern VARIABLE_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)");

    /** Every {@code ${VAR} } (with or without a default, nested ones too) in application.properties. */
    private static Set<String> referencedVariables(Properties properties) {
        Set<String> names = new TreeSet<>();
        for (String key : properties.stringPropertyNames()) {
            Matcher matcher = VARIABLE_REFERENCE.matcher(properties.getProperty(key));
            while (matcher.find()) {
                String name = matcher.group(1);
                // ${gateway.x} style references are properties, not variables.
                if (name.equals(name.toUpperCase(Locale.ROOT))) {
                    names.add(name);
                }
            }
        }
        return names;
    }

    /** The environment-variable form of every property of GatewayConfig (map keys become wildcards). */
    private static List<Pattern> gatewayVariablePatterns() {
        Class<?> config;
        try {
            config = Class.forName("org.canonic.gateway.config.GatewayConfig");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("GatewayConfig moved: update AppFacts", e);
        }
        String prefix = "gateway";
        for (java.lang.annotation.Annotation annotation : config.getAnnotations()) {
            if (annotation.annotationType().getSimpleName().equals("ConfigMapping")) {
                try {
                    prefix = (String) annotation.annotationType().getMethod("prefix").invoke(annotation);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        List<String> properties = new ArrayList<>();
        collectProperties(config, prefix, properties, 0);
        List<Pattern> patterns = new ArrayList<>();
        for (String property : properties) {
            patterns.add(Pattern.compile(envPattern(property)));
        }
        return patterns;
    }

    private static void collectProperties(Class<?> group, String prefix, List<String> out, int depth) {
        if (depth > 8) {
            return;
        }
        for (Method method : group.getMethods()) {
            if (method.getParameterCount() != 0 || method.isDefault() || java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            String name = propertyName(method);
            String path = prefix + "." + name;
            Type type = method.getGenericReturnType();
            Class<?> raw = method.getReturnType();
            if (raw == Map.class && type instanceof ParameterizedType parameterized) {
                Type valueType = parameterized.getActualTypeArguments()[1];
                if (valueType instanceof Class<?> valueClass && isGroup(valueClass)) {
                    collectProperties(valueClass, path + ".*", out, depth + 1);
                } else {
                    out.add(path + ".*");
                }
            } else if (isGroup(raw)) {
                collectProperties(raw, path, out, depth + 1);
            } else {
                out.add(path);
            }
        }
    }

    private static boolean isGroup(Class<?> type) {
        return type.isInterface() && type.getName().startsWith("org.canonic.gateway.");
    }

    private static String propertyName(Method method) {
        for (java.lang.annotation.Annotation annotation : method.getAnnotations()) {
            if (annotation.annotationType().getSimpleName().equals("WithName")) {
                try {
                    return (String) annotation.annotationType().getMethod("value").invoke(annotation);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return method.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /**
     * The variable form of a property as SmallRye Config maps it (upper case, every non-alphanumeric character an
     * underscore), as a regular expression: {@code *} and quoted map keys match any key.
     */
    static String envPattern(String property) {
        StringBuilder regex = new StringBuilder();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < property.length()) {
            char c = property.charAt(i);
            if (c == '*' || c == '"') {
                regex.append(Pattern.quote(literal.toString()));
                literal.setLength(0);
                regex.append("[A-Z0-9_]+");
                if (c == '"') {
                    int end = property.indexOf('"', i + 1);
                    i = end < 0 ? property.length() : end + 1;
                    continue;
                }
            } else if (c == '[' && property.startsWith("[*]", i)) {
                regex.append(Pattern.quote(literal.toString()));
                literal.setLength(0);
                regex.append("_[0-9]+_?");
                i += 3;
                continue;
            } else {
                literal.append(Character.isLetterOrDigit(c) ? Character.toUpperCase(c) : '_');
            }
            i++;
        }
        regex.append(Pattern.quote(literal.toString()));
        return regex.toString();
    }

    /** Documented Quarkus variables of every extension on the classpath, with their property's phase. */
    private static Map<Pattern, String> quarkusVariablePatterns() throws IOException {
        Map<Pattern, String> patterns = new LinkedHashMap<>();
        ObjectMapper mapper = new ObjectMapper();
        Enumeration<URL> models = AppFacts.class.getClassLoader()
                .getResources("META-INF/quarkus-config-doc/quarkus-config-model.json");
        int count = 0;
        for (URL url : Collections.list(models)) {
            count++;
            try (InputStream in = url.openStream()) {
                collectQuarkusProperties(mapper.readTree(in), patterns);
            }
        }
        if (count == 0 || patterns.isEmpty()) {
            throw new IllegalStateException("no Quarkus configuration model on the test classpath");
        }
        return patterns;
    }

    private static void collectQuarkusProperties(JsonNode node, Map<Pattern, String> out) {
        if (node.isObject()) {
            JsonNode path = node.get("path");
            if (path != null && path.isObject() && path.has("environmentVariable") && path.has("property")) {
                String phase = node.path("phase").asText("RUN_TIME");
                Pattern pattern = Pattern.compile(envPattern(path.get("property").asText()));
                // A property documented twice keeps its run-time phase if either says so.
                out.merge(pattern, phase, (a, b) -> "RUN_TIME".equals(a) ? a : b);
            }
            node.elements().forEachRemaining(child -> collectQuarkusProperties(child, out));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(child -> collectQuarkusProperties(child, out));
        }
    }

    // ---- served application paths ---------------------------------------------------------------------------------

    /**
     * The proxied endpoints (the {@code Endpoint} enum's client paths) and every path of a JAX-RS resource class in
     * the compiled application (class-level {@code @Path}, combined with method-level ones).
     */
    private static Set<String> servedAppPaths() throws IOException {
        Set<String> paths = new TreeSet<>();
        ClassLoader loader = AppFacts.class.getClassLoader();
        try {
            Class<?> endpoint = Class.forName("org.canonic.gateway.policy.Endpoint");
            Method clientPath = endpoint.getMethod("clientPath");
            for (Object constant : endpoint.getEnumConstants()) {
                paths.add((String) clientPath.invoke(constant));
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the proxied endpoints moved (policy.Endpoint.clientPath): update AppFacts", e);
        }
        Path classes;
        try {
            URL location = Class.forName("org.canonic.gateway.config.GatewayConfig").getProtectionDomain()
                    .getCodeSource().getLocation();
            classes = Path.of(location.toURI());
        } catch (ReflectiveOperationException | URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        if (!Files.isDirectory(classes)) {
            throw new IllegalStateException("the application's classes are not a directory: " + classes);
        }
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                String name = classes.relativize(file).toString().replace('/', '.').replace('\\', '.');
                name = name.substring(0, name.length() - ".class".length());
                Class<?> type;
                try {
                    type = Class.forName(name, false, loader);
                } catch (Throwable e) {
                    continue;
                }
                if (type.isInterface()) {
                    continue; // REST-client interfaces describe backends' paths, not ours
                }
                jakarta.ws.rs.Path root = type.getAnnotation(jakarta.ws.rs.Path.class);
                if (root == null) {
                    continue;
                }
                String base = join("/", root.value());
                paths.add(base);
                for (Method method : type.getDeclaredMethods()) {
                    jakarta.ws.rs.Path sub = method.getAnnotation(jakarta.ws.rs.Path.class);
                    if (sub != null) {
                        paths.add(normalize(base + "/" + sub.value()));
                    }
                }
            }
        }
        return paths;
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, AppFacts.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** Durations as the gateway and Compose write them: {@code 30s}, {@code 1m30s}, {@code 500ms}; bare numbers = ms. */
    static Duration parseDuration(String text) {
        String value = text.trim();
        if (value.matches("\\d+")) {
            return Duration.ofMillis(Long.parseLong(value));
        }
        Matcher part = Pattern.compile("(\\d+)(ms|h|m|s)").matcher(value);
        Duration total = Duration.ZERO;
        int end = 0;
        while (part.find()) {
            if (part.start() != end) {
                throw new IllegalArgumentException("not a duration: " + text);
            }
            long amount = Long.parseLong(part.group(1));
            total = total.plus(switch (part.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            });
            end = part.end();
        }
        if (end != value.length() || end == 0) {
            throw new IllegalArgumentException("not a duration: " + text);
        }
        return total;
    }
}

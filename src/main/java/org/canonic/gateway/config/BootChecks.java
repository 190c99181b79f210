package org.canonic.gateway.config;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.spi.ConfigSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Start-up checks of settings that no single component owns. Each returns problems rather than throwing, so that
 * one start-up reports every problem at once.
 */
public final class BootChecks {

    private BootChecks() {
    }

    public static List<String> check(GatewayConfig config, Config raw) {
        List<String> problems = new ArrayList<>();
        checkTokens(config.tokens(), problems);
        checkNoLiteralSecrets(raw, problems);
        if (config.keepAliveInterval().isZero() || config.keepAliveInterval().isNegative()) {
            problems.add("gateway.keep-alive-interval must be positive");
        }
        checkLimits(config, Runtime.getRuntime().maxMemory(), problems);
        checkConnections(config.connections(), problems);
        checkConcurrency(config.defaults(), problems);
        checkBreaker(config.breaker(), problems);
        checkForwardHeaders(config.forwardHeaders(), problems);
        checkCompute(config.compute(), problems);
        checkUsage(config, problems);
        config.telemetry().tracing().otlpEndpoint().map(String::strip).filter(e -> !e.isEmpty()).ifPresent(e -> {
            if (!e.matches("https?://[^/@?#\\s]+(/[^?#\\s]*)?")) {
                problems.add("gateway.telemetry.tracing.otlp-endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) must be an"
                        + " http(s) URL with a host and no user info, e.g. http://collector:4318/v1/traces");
            }
        });
        config.telemetry().ledger().path().map(String::strip).filter(p -> !p.isEmpty())
                .ifPresent(path -> LedgerPathCheck.check(path, problems));
        return problems;
    }

    /** Usage settings and daily budgets: a value out of range would make costs or budgets meaningless. */
    static void checkUsage(GatewayConfig config, List<String> problems) {
        OperationsConfig.UsageConfig usage = config.usage();
        if (usage.retention().compareTo(java.time.Duration.ofHours(1)) < 0
                || usage.retention().compareTo(java.time.Duration.ofDays(400)) > 0) {
            problems.add("gateway.usage.retention must be between 1h and 400d");
        }
        double weight = usage.outputTokenWeight();
        if (!(weight > 0 && weight <= 1000)) {
            problems.add("gateway.usage.output-token-weight must be above 0 and at most 1000");
        }
        usage.usdPerMillionTokens().forEach((backend, price) -> {
            if (!(price >= 0 && price < 1e6)) {
                problems.add("gateway.usage.usd-per-million-tokens." + backend + " must be 0 or more");
            }
        });
        GuardConfig.KeyLimits limits = config.keyLimits();
        if (!(limits.usdPerDay() >= 0) || limits.tokensPerDay() < 0) {
            problems.add("gateway.key-limits.usd-per-day and tokens-per-day must be 0 (no budget) or more");
        }
        limits.keys().forEach((id, own) -> {
            if (own.usdPerDay().isPresent() && !(own.usdPerDay().getAsDouble() >= 0)
                    || own.tokensPerDay().isPresent() && own.tokensPerDay().getAsLong() < 0) {
                problems.add("gateway.key-limits.keys." + id + ": usd-per-day and tokens-per-day must be 0 (no"
                        + " budget) or more");
            }
        });
    }

    /** What an instance label ({@code mg-<recipe>-<gateway-id>-<uuid8>}) may be made of, like its key file's name. */
    private static final java.util.regex.Pattern LABEL_PART = java.util.regex.Pattern.compile(
            "[a-z0-9]([a-z0-9-]*[a-z0-9])?");
    /** "mg-" + recipe + "-" + gateway id + "-" + 8 hex digits must stay within 63 characters. */
    private static final int LABEL_MAX = 63;

    /**
     * The gateway id and every recipe name go into instance labels, which are also backend and key-file names: one
     * that cannot be a label would fail every launch after its estimate was reserved, so it stops the start.
     */
    static void checkCompute(ComputeConfig compute, List<String> problems) {
        String id = compute.gatewayId();
        if (!LABEL_PART.matcher(id).matches()) {
            problems.add("GATEWAY_ID (gateway.compute.gateway-id) '" + id + "' must be lower-case letters, digits"
                    + " and '-' (not first or last): it is part of every instance label, mg-<recipe>-" + id
                    + "-<uuid8>");
        }
        java.util.Set<String> recipes = new java.util.TreeSet<>(List.of("chat", "kilocode"));
        recipes.addAll(compute.recipes().keySet());
        for (String recipe : recipes) {
            if (!LABEL_PART.matcher(recipe).matches()) {
                problems.add("gateway.compute.recipes." + recipe + ": the recipe name must be lower-case letters,"
                        + " digits and '-' (not first or last): it is part of every instance label");
            } else if (("mg-" + recipe + "-" + id + "-12345678").length() > LABEL_MAX) {
                problems.add("gateway.compute.recipes." + recipe + ": with GATEWAY_ID '" + id + "' its instance"
                        + " labels would be longer than " + LABEL_MAX + " characters; shorten the recipe name or the"
                        + " gateway id");
            }
        }
    }

    /** The body budget must parse and hold at least one body of each kind, or such bodies could never be served. */
    static void checkLimits(GatewayConfig config, long maxHeapBytes, List<String> problems) {
        GuardConfig.Limits limits = config.limits();
        long budget;
        try {
            budget = BodyBudgetSetting.bytes(limits.bodyBudget(), maxHeapBytes);
        } catch (IllegalArgumentException e) {
            problems.add("gateway.limits.body-budget: " + e.getMessage());
            return;
        }
        long largest = Math.max(limits.maxBodySize().asLongValue(), limits.maxUpstreamBodySize().asLongValue());
        if (budget < largest) {
            problems.add("gateway.limits.body-budget (" + limits.bodyBudget() + " = " + budget + " bytes of a "
                    + maxHeapBytes + "-byte heap) cannot hold one body of " + largest + " bytes: give the JVM more "
                    + "heap (-Xmx), raise the budget or lower max-body-size / max-upstream-body-size");
        }
        if (limits.bodyBudgetShare() < 1 || limits.bodyBudgetShare() > 100) {
            problems.add("gateway.limits.body-budget-share must be a percentage from 1 to 100 (is "
                    + limits.bodyBudgetShare() + ")");
        }
        if (!positive(limits.bodyReadTimeout())) {
            problems.add("gateway.limits.body-read-timeout must be positive");
        }
    }

    /** The adaptive limit needs 1 <= min <= initial <= max; the wait for a slot cannot be negative. */
    static void checkConcurrency(GatewayConfig.Defaults defaults, List<String> problems) {
        GatewayConfig.AdaptiveConcurrency adaptive = defaults.adaptiveConcurrency();
        String prefix = "gateway.defaults.adaptive-concurrency.";
        if (adaptive.minLimit() < 1 || adaptive.minLimit() > adaptive.initialLimit()
                || adaptive.initialLimit() > adaptive.maxLimit()) {
            problems.add(prefix + "min-limit, initial-limit and max-limit must satisfy 1 <= min <= initial <= max, got "
                    + adaptive.minLimit() + ", " + adaptive.initialLimit() + " and " + adaptive.maxLimit());
        }
        if (defaults.concurrencyWait().isNegative()) {
            problems.add("gateway.defaults.concurrency-wait must not be negative");
        }
    }

    /** The breaker needs a window of at least one attempt, a ratio in (0, 1] and at least one trial. */
    static void checkBreaker(OperationsConfig.Breaker breaker, List<String> problems) {
        double ratio = breaker.failureRatio();
        if (!breakerSettingsValid(breaker.requestVolumeThreshold(), ratio, breaker.delay().toMillis(),
                breaker.successThreshold())) {
            problems.add("gateway.breaker settings must satisfy request-volume-threshold >= 1, 0 < failure-ratio <= 1,"
                    + " delay >= 0 and success-threshold >= 1, got request-volume-threshold "
                    + breaker.requestVolumeThreshold() + ", failure-ratio " + ratio + ", delay " + breaker.delay()
                    + ", success-threshold " + breaker.successThreshold());
        }
    }

    /** The one rule for breaker settings: start-up applies it to the configuration, the breaker to its arguments. */
    public static boolean breakerSettingsValid(int window, double failureRatio, long delayMs, int successThreshold) {
        return window >= 1 && failureRatio > 0 && failureRatio <= 1 && delayMs >= 0 && successThreshold >= 1;
    }

    static void checkConnections(GuardConfig.Connections connections, List<String> problems) {
        if (!positive(connections.headerTimeout())) {
            problems.add("gateway.connections.header-timeout must be positive");
        }
        if (!positive(connections.idleTimeout())) {
            problems.add("gateway.connections.idle-timeout must be positive");
        }
        if (connections.maxPerAddress() < 0) {
            problems.add("gateway.connections.max-per-address must be 0 (no cap) or more");
        }
    }

    /** Headers the gateway sets itself, or that must never cross it, cannot be put on the forward list. */
    static void checkForwardHeaders(List<String> names, List<String> problems) {
        for (String name : names) {
            String lower = name.strip().toLowerCase(Locale.ROOT);
            if (RESERVED_HEADERS.contains(lower) || lower.startsWith("x-forwarded-") || lower.startsWith("proxy-")) {
                problems.add("gateway.forward-headers may not name '" + name.strip() + "': the gateway sets it itself "
                        + "or it must not cross the gateway");
            } else if (!lower.matches("[a-z0-9!#$%&'*+.^_`|~-]+")) {
                problems.add("gateway.forward-headers: '" + name.strip() + "' is not a header name");
            }
        }
    }

    private static final java.util.Set<String> RESERVED_HEADERS = java.util.Set.of("authorization", "cookie",
            "set-cookie", "host", "content-length", "content-type", "content-encoding", "transfer-encoding",
            "connection", "keep-alive", "te", "trailer", "upgrade", "expect", "accept", "accept-encoding",
            "x-request-id", "forwarded", "via", "api-key", "x-api-key", "x-http-method-override", "x-http-method",
            "x-method-override");

    private static boolean positive(java.time.Duration duration) {
        return duration != null && !duration.isZero() && !duration.isNegative();
    }

    static void checkTokens(GuardConfig.Tokens tokens, List<String> problems) {
        if (tokens.min() < 1) {
            problems.add("TOKENS_MIN (gateway.tokens.min) must be at least 1, got " + tokens.min());
        }
        if (tokens.min() > tokens.max()) {
            problems.add("TOKENS_MIN (" + tokens.min() + ") is larger than TOKENS_MAX (" + tokens.max() + ")");
        }
        if (tokens.defaultLimit() < tokens.min() || tokens.defaultLimit() > tokens.max()) {
            problems.add("MAX_TOKENS (" + tokens.defaultLimit() + ") must lie between TOKENS_MIN (" + tokens.min()
                    + ") and TOKENS_MAX (" + tokens.max() + ")");
        }
        String over = tokens.overCeiling().strip().toLowerCase(Locale.ROOT);
        if (!over.equals("clamp") && !over.equals("refuse")) {
            problems.add("gateway.tokens.over-ceiling must be 'clamp' or 'refuse', got '" + tokens.overCeiling() + "'");
        }
    }

    /**
     * A credential must come from the environment or a secret file, never from a config file shipped in the jar or
     * image. Settings that hold credentials must therefore be {@code ${...}} expressions (or empty) in any
     * application.properties.
     */
    static void checkNoLiteralSecrets(Config raw, List<String> problems) {
        for (ConfigSource source : raw.getConfigSources()) {
            String sourceName = source.getName();
            if (!isConfigFile(source)) {
                continue;
            }
            for (String name : source.getPropertyNames()) {
                String value = source.getValue(name);
                if (isSecretSetting(name) && value != null && !value.isBlank() && !value.strip().startsWith("${")) {
                    problems.add(name + " is written as a literal in " + shortName(sourceName)
                            + "; credentials must come from the environment or a secret file");
                }
            }
        }
    }

    /**
     * The application.properties files an operator or a build writes: packaged in the jar (ordinal 250) or in
     * {@code config/} beside it (260). Test and runtime overrides are not files anyone ships.
     */
    private static boolean isConfigFile(ConfigSource source) {
        String name = source.getName() == null ? "" : source.getName();
        return (name.contains("application.properties") || name.contains("application.yaml"))
                && source.getOrdinal() <= 260;
    }

    static boolean isSecretSetting(String name) {
        String plain = name.startsWith("%") && name.indexOf('.') > 0 ? name.substring(name.indexOf('.') + 1) : name;
        return plain.startsWith("gateway.") && (plain.endsWith(".api-key") || plain.equals("gateway.auth.keys")
                || plain.equals("gateway.admin-token") || plain.equals("gateway.webhooks.secret"));
    }

    private static String shortName(String sourceName) {
        int slash = sourceName.lastIndexOf('/');
        return slash >= 0 ? sourceName.substring(slash + 1).replace("]", "") : sourceName;
    }
}

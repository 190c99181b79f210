package org.canonic.gateway.fleet;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.backend.UpstreamEndpoint;
import org.canonic.gateway.config.GatewayConfig;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Checks a {@link BackendDefinition} and turns it into a {@link Backend}: the same checks and the same messages
 * whether the definition came from configuration at start-up or from the admin API while serving. Each problem names
 * the setting as its source spells it ({@code gateway.backends.x.tries} or {@code tries}).
 */
public final class BackendResolver {

    /** The base URL that points a backend at the embedded simulator. */
    public static final String SIMULATOR_URL = "simulator:";

    /** Bounds of every backend setting, from configuration or the admin API alike. */
    static final Duration MAX_CLOCK = Duration.ofHours(24);
    static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(1);
    static final int MAX_CONCURRENCY = 100_000;
    static final int MAX_TOKENS = 10_000_000;

    private final GatewayConfig.Defaults defaults;
    private final Optional<String> simulatorBaseUrl;
    private final Function<String, String> environment;
    private final KeyPolicy keys;

    /** A resolver whose admin key references may name no file (for tests of the other settings). */
    public BackendResolver(GatewayConfig.Defaults defaults, Optional<String> simulatorBaseUrl,
                           Function<String, String> environment) {
        this(defaults, simulatorBaseUrl, environment, new KeyPolicy(List.of(), "gateway.secrets.dir", "BACKEND_KEY_"));
    }

    /**
     * @param simulatorBaseUrl the running simulator's OpenAI base URL, empty when the simulator is off
     * @param environment      reads environment variables (for key references)
     * @param keys             where key references and certificate files may point
     */
    public BackendResolver(GatewayConfig.Defaults defaults, Optional<String> simulatorBaseUrl,
                           Function<String, String> environment, KeyPolicy keys) {
        this.defaults = defaults;
        this.simulatorBaseUrl = simulatorBaseUrl;
        this.environment = environment;
        this.keys = keys;
    }

    /** How configuration names a backend's settings. */
    public static UnaryOperator<String> configNaming(String name) {
        return field -> "gateway.backends." + name + "." + field;
    }

    /** How the admin API names them: the JSON fields, durations in milliseconds. */
    public static UnaryOperator<String> apiNaming() {
        return field -> {
            String snake = field.replace('-', '_');
            return field.equals("retry-delay") || field.startsWith("clocks.") ? snake + "_ms" : snake;
        };
    }

    /**
     * The backend, or empty with every problem added to {@code problems}. Definitions named the admin API's way
     * ({@link #apiNaming()}) came from the admin API (or were stored from it): their files are held to the secrets
     * directory ({@link KeyPolicy}).
     */
    public Optional<Backend> resolve(BackendDefinition definition, UnaryOperator<String> naming,
                                     List<String> problems) {
        return resolve(definition, naming, naming.apply("api-key-file").equals("api_key_file"), problems);
    }

    /**
     * As {@link #resolve(BackendDefinition, UnaryOperator, List)}; {@code restricted} says whether its files must be
     * in the secrets directory (false for the gateway's own registrations, whose files it wrote itself).
     */
    public Optional<Backend> resolve(BackendDefinition definition, UnaryOperator<String> naming, boolean restricted,
                                     List<String> problems) {
        int before = problems.size();
        String url = definition.baseUrl() == null ? "" : definition.baseUrl().trim();
        UpstreamEndpoint endpoint = null;
        if (url.isEmpty()) {
            problems.add(naming.apply("base-url") + " is required");
        } else if (url.equals(SIMULATOR_URL) && simulatorBaseUrl.isEmpty()) {
            problems.add(naming.apply("base-url")
                    + " points at the embedded simulator, but gateway.simulator.enabled is false");
        } else {
            try {
                endpoint = UpstreamEndpoint.parse(url.equals(SIMULATOR_URL) ? simulatorBaseUrl.get() : url);
            } catch (IllegalArgumentException e) {
                problems.add(naming.apply("base-url") + " " + e.getMessage());
            }
        }
        String model = definition.model() == null ? "" : definition.model().trim();
        if (model.isEmpty()) {
            problems.add(naming.apply("model") + " is required: the model id this backend serves");
        }
        int tries = orDefault(definition.tries(), defaults.tries());
        if (tries < 1 || tries > 10) {
            problems.add(naming.apply("tries") + " must be between 1 and 10, got " + tries);
        }
        Duration retryDelay = orDefault(definition.retryDelay(), defaults.retryDelay());
        if (retryDelay.isNegative() || retryDelay.compareTo(MAX_RETRY_DELAY) > 0) {
            problems.add(naming.apply("retry-delay") + " must be between 0 and " + MAX_RETRY_DELAY.toMillis()
                    + " ms, got " + retryDelay.toMillis() + " ms");
        }
        GatewayConfig.Clocks base = defaults.clocks();
        Duration connect = positive(naming, "clocks.connect", orDefault(definition.connect(), base.connect()), problems);
        Duration firstToken = positive(naming, "clocks.first-token",
                orDefault(definition.firstToken(), base.firstToken()), problems);
        Duration idle = positive(naming, "clocks.idle", orDefault(definition.idle(), base.idle()), problems);
        Duration total = positive(naming, "clocks.total", orDefault(definition.total(), base.total()), problems);
        // Unset everywhere: 0, the adaptive limit.
        int maxConcurrency = orDefault(definition.maxConcurrency(),
                defaults.maxConcurrency().isPresent() ? defaults.maxConcurrency().getAsInt() : 0);
        if ((maxConcurrency < 1 || maxConcurrency > MAX_CONCURRENCY)
                && (definition.maxConcurrency() != null || defaults.maxConcurrency().isPresent())) {
            problems.add(naming.apply("max-concurrency") + " must be between 1 and " + MAX_CONCURRENCY + ", got "
                    + maxConcurrency);
        }
        int contextWindow = orDefault(definition.contextWindow(), 0);
        int tokensMax = orDefault(definition.tokensMax(), 0);
        if (contextWindow < 0 || tokensMax < 0 || contextWindow > MAX_TOKENS || tokensMax > MAX_TOKENS) {
            problems.add(naming.apply("context-window") + " and " + naming.apply("tokens-max")
                    + " must be between 0 and " + MAX_TOKENS);
        }
        Backend.ProbeKind probe = endpoint == null ? Backend.ProbeKind.NONE
                : probeKind(naming, definition.probe() == null ? "auto" : definition.probe(), endpoint, problems);
        Backend.Secret apiKey = null;
        if (definition.apiKey() != null) {
            String key = naming.apply(definition.apiKey() instanceof ApiKeyRef.Env ? "api-key-env"
                    : definition.apiKey() instanceof ApiKeyRef.File ? "api-key-file" : "api-key");
            apiKey = keys.resolve(definition.apiKey(), key, restricted, problems, environment).orElse(null);
        }
        String pinned = definition.tlsCertificateFile() == null || endpoint == null ? null
                : pinnedCertificate(naming.apply("tls-certificate-file"), definition.tlsCertificateFile(), endpoint,
                restricted, problems);
        if (problems.size() > before) {
            return Optional.empty();
        }
        // vLLM serves /metrics; RunPod serverless and other OpenAI-compatible APIs do not.
        boolean loadSignals = definition.loadSignals() != null ? definition.loadSignals()
                : probe == Backend.ProbeKind.VLLM;
        return Optional.of(new Backend(definition.name(), endpoint, model, tries, retryDelay.toMillis(),
                Clocks.of(connect, firstToken, idle, total), maxConcurrency, probe, contextWindow, tokensMax, apiKey,
                loadSignals, pinned));
    }

    /**
     * The certificate a pinned backend must present: an https URL and a file holding one X.509 certificate (PEM);
     * anything else is a problem, never a fall back to public CAs or to plain HTTP.
     */
    String pinnedCertificate(String field, String file, UpstreamEndpoint endpoint, boolean restricted,
                             List<String> problems) {
        if (!endpoint.ssl()) {
            problems.add(field + " pins a TLS certificate, so base_url must be https://");
            return null;
        }
        Optional<String> content = keys.readFile(file, field, restricted, problems);
        if (content.isEmpty()) {
            return null;
        }
        try {
            String pem = content.get();
            java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(
                    new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            return pem;
        } catch (RuntimeException | java.security.cert.CertificateException e) {
            problems.add(field + " " + file + " is not a readable X.509 certificate (PEM): "
                    + e.getClass().getSimpleName());
            return null;
        }
    }

    /** Reads the probe setting; {@code auto} recognises RunPod serverless endpoints by their URL. */
    private static Backend.ProbeKind probeKind(UnaryOperator<String> naming, String setting, UpstreamEndpoint endpoint,
                                               List<String> problems) {
        switch (setting.trim().toLowerCase(Locale.ROOT)) {
            case "auto":
                return endpoint.isRunPodServerless() ? Backend.ProbeKind.RUNPOD_SERVERLESS : Backend.ProbeKind.VLLM;
            case "vllm":
                return Backend.ProbeKind.VLLM;
            case "models":
                return Backend.ProbeKind.MODELS;
            case "runpod-serverless":
                if (!endpoint.isRunPodServerless()) {
                    problems.add(naming.apply("probe")
                            + " is runpod-serverless but the base URL is not /v2/<endpoint>/openai/v1");
                }
                return Backend.ProbeKind.RUNPOD_SERVERLESS;
            case "none":
                return Backend.ProbeKind.NONE;
            default:
                problems.add(naming.apply("probe") + " must be auto, vllm, models, runpod-serverless or none, got '"
                        + setting + "'");
                return Backend.ProbeKind.NONE;
        }
    }

    private static Duration positive(UnaryOperator<String> naming, String field, Duration value, List<String> problems) {
        if (value.isZero() || value.isNegative() || value.compareTo(MAX_CLOCK) > 0) {
            problems.add(naming.apply(field) + " must be positive and at most " + MAX_CLOCK.toMillis()
                    + " ms (24 h), got " + value.toMillis() + " ms");
        }
        return value;
    }

    private static <T> T orDefault(T value, T fallback) {
        return value == null ? fallback : value;
    }
}

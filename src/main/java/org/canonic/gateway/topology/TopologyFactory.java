package org.canonic.gateway.topology;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.backend.UpstreamEndpoint;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.GatewayConfig.BackendConfig;
import org.canonic.gateway.config.GatewayConfig.RouteConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns configuration into a {@link Topology}, or refuses with every problem found (fail closed at boot).
 *
 * <p>A backend without a base URL is absent, not an error: deployments set only the variables of the providers
 * they use. A route whose backends are all absent is absent too. A name that no configuration declares at all
 * (a typo in a route or in {@code FALLBACK_PROVIDER}) is an error.
 */
public final class TopologyFactory {

    /** The base URL that points a backend at the embedded simulator. */
    public static final String SIMULATOR_URL = "simulator:";

    private static final Logger LOG = Logger.getLogger(TopologyFactory.class);

    private final GatewayConfig config;
    private final Optional<String> simulatorBaseUrl;
    private final List<String> problems = new ArrayList<>();

    /**
     * @param simulatorBaseUrl the running simulator's OpenAI base URL, empty when the simulator is off
     */
    public TopologyFactory(GatewayConfig config, Optional<String> simulatorBaseUrl) {
        this.config = config;
        this.simulatorBaseUrl = simulatorBaseUrl;
    }

    public Topology build() {
        Map<String, Backend> backends = new LinkedHashMap<>();
        config.backends().forEach((name, backend) -> resolveBackend(name, backend).ifPresent(b -> backends.put(name, b)));

        List<Route> aliased = new ArrayList<>();
        config.routes().forEach((name, route) -> resolveRoute(name, route, backends).ifPresent(aliased::add));
        List<Route> routes = withBackendModelIds(aliased);

        Backend fallback = resolveFallback(backends);
        if (routes.isEmpty() && problems.isEmpty()) {
            problems.add("no route has a usable backend: set a backend base URL (RUNPOD_BASE_URL, VASTAI_BASE_URL, "
                    + "VASTAI_KILOCODE_BASE_URL or gateway.backends.<name>.base-url)");
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return new Topology(routes, backends, fallback);
    }

    private Optional<Backend> resolveBackend(String name, BackendConfig backend) {
        Optional<String> baseUrl = backend.baseUrl().map(String::trim).filter(url -> !url.isEmpty());
        if (baseUrl.isEmpty()) {
            return Optional.empty();
        }
        String key = "gateway.backends." + name;
        String url = baseUrl.get();
        if (url.equals(SIMULATOR_URL)) {
            if (simulatorBaseUrl.isEmpty()) {
                problems.add(key + ".base-url points at the embedded simulator, but gateway.simulator.enabled is false");
                return Optional.empty();
            }
            url = simulatorBaseUrl.get();
        }
        UpstreamEndpoint endpoint;
        try {
            endpoint = UpstreamEndpoint.parse(url);
        } catch (IllegalArgumentException e) {
            problems.add(key + ".base-url " + e.getMessage());
            return Optional.empty();
        }
        Optional<String> model = backend.model().map(String::trim).filter(m -> !m.isEmpty());
        if (model.isEmpty()) {
            problems.add(key + ".model is required: the model id this backend serves");
        }
        GatewayConfig.Defaults defaults = config.defaults();
        int tries = backend.tries().orElse(defaults.tries());
        if (tries < 1) {
            problems.add(key + ".tries must be at least 1, got " + tries);
        }
        Duration retryDelay = backend.retryDelay().orElse(defaults.retryDelay());
        GatewayConfig.ClockOverrides own = backend.clocks();
        GatewayConfig.Clocks base = defaults.clocks();
        Duration connect = own.connect().orElse(base.connect());
        Duration firstToken = own.firstToken().orElse(base.firstToken());
        Duration idle = own.idle().orElse(base.idle());
        Duration total = own.total().orElse(base.total());
        requirePositive(key + ".clocks.connect", connect);
        requirePositive(key + ".clocks.first-token", firstToken);
        requirePositive(key + ".clocks.idle", idle);
        requirePositive(key + ".clocks.total", total);
        if (retryDelay.isNegative()) {
            problems.add(key + ".retry-delay must not be negative");
        }
        int maxConcurrency = backend.maxConcurrency().orElse(defaults.maxConcurrency());
        if (maxConcurrency < 1) {
            problems.add(key + ".max-concurrency must be at least 1, got " + maxConcurrency);
        }
        Backend.ProbeKind probe = probeKind(key, backend.probe(), endpoint);
        int contextWindow = backend.contextWindow().orElse(0);
        int tokensMax = backend.tokensMax().orElse(0);
        if (contextWindow < 0 || tokensMax < 0) {
            problems.add(key + ".context-window and .tokens-max must not be negative");
        }
        Backend.Secret apiKey = backend.apiKey().map(String::trim).filter(k -> !k.isEmpty())
                .map(Backend.Secret::new).orElse(null);
        return Optional.of(new Backend(name, endpoint, model.orElse(""), tries, retryDelay.toMillis(),
                Clocks.of(connect, firstToken, idle, total), maxConcurrency, probe, contextWindow, tokensMax, apiKey));
    }

    /** Reads the probe setting; {@code auto} recognises RunPod serverless endpoints by their URL. */
    private Backend.ProbeKind probeKind(String key, String setting, UpstreamEndpoint endpoint) {
        switch (setting.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "auto":
                return endpoint.isRunPodServerless() ? Backend.ProbeKind.RUNPOD_SERVERLESS : Backend.ProbeKind.VLLM;
            case "vllm":
                return Backend.ProbeKind.VLLM;
            case "models":
                return Backend.ProbeKind.MODELS;
            case "runpod-serverless":
                if (!endpoint.isRunPodServerless()) {
                    problems.add(key + ".probe is runpod-serverless but the base URL is not /v2/<endpoint>/openai/v1");
                }
                return Backend.ProbeKind.RUNPOD_SERVERLESS;
            case "none":
                return Backend.ProbeKind.NONE;
            default:
                problems.add(key + ".probe must be auto, vllm, models, runpod-serverless or none, got '" + setting + "'");
                return Backend.ProbeKind.NONE;
        }
    }

    private Optional<Route> resolveRoute(String name, RouteConfig route, Map<String, Backend> backends) {
        List<Backend> present = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        for (String backendName : route.backends()) {
            String trimmed = backendName.trim();
            if (backends.containsKey(trimmed)) {
                present.add(backends.get(trimmed));
            } else if (config.backends().containsKey(trimmed)) {
                absent.add(trimmed);
            } else {
                problems.add("gateway.routes." + name + ".backends names '" + trimmed
                        + "', which no gateway.backends." + trimmed + ".* setting declares");
            }
        }
        if (!absent.isEmpty()) {
            LOG.infof("Route %s: backends %s have no base URL and are left out", name, absent);
        }
        if (present.isEmpty()) {
            LOG.infof("Route %s has no usable backend and is not served", name);
            return Optional.empty();
        }
        Set<String> aliases = new LinkedHashSet<>();
        route.models().ifPresent(models -> models.stream().map(String::trim).filter(a -> !a.isEmpty())
                .forEach(aliases::add));
        return Optional.of(new Route(name, List.copyOf(aliases), List.copyOf(present)));
    }

    /**
     * Adds each backend's own model id to its route's names, so clients may send the real id. Aliases must be
     * unique across routes (an error otherwise); a model id served by backends of several routes is ambiguous and
     * is left to the aliases, with a warning.
     */
    private List<Route> withBackendModelIds(List<Route> routes) {
        Map<String, String> aliasOwner = new LinkedHashMap<>();
        Map<String, Set<String>> idRoutes = new LinkedHashMap<>();
        for (Route route : routes) {
            for (String alias : route.modelNames()) {
                String other = aliasOwner.putIfAbsent(alias, route.name());
                if (other != null) {
                    problems.add("model name '" + alias + "' is an alias of both route '" + other + "' and route '"
                            + route.name() + "'; give each route its own names");
                }
            }
            route.backends().forEach(b -> idRoutes.computeIfAbsent(b.model(), k -> new LinkedHashSet<>())
                    .add(route.name()));
        }
        idRoutes.forEach((id, owners) -> {
            if (owners.size() > 1 && !aliasOwner.containsKey(id)) {
                LOG.warnf("Model id %s is served by routes %s; clients must use a route alias instead", id, owners);
            }
        });
        List<Route> completed = new ArrayList<>();
        for (Route route : routes) {
            Set<String> names = new LinkedHashSet<>(route.modelNames());
            for (Backend backend : route.backends()) {
                if (idRoutes.get(backend.model()).size() == 1 && !aliasOwner.containsKey(backend.model())) {
                    names.add(backend.model());
                }
            }
            completed.add(new Route(route.name(), List.copyOf(names), route.backends()));
        }
        return completed;
    }

    private Backend resolveFallback(Map<String, Backend> backends) {
        Optional<String> name = config.fallback().map(String::trim).filter(n -> !n.isEmpty());
        if (name.isEmpty()) {
            return null;
        }
        Backend fallback = backends.get(name.get());
        if (fallback == null) {
            problems.add("the fallback backend '" + name.get() + "' (FALLBACK_PROVIDER / gateway.fallback) "
                    + (config.backends().containsKey(name.get()) ? "has no base URL" : "is not declared")
                    + "; known backends with a base URL: " + backends.keySet());
        }
        return fallback;
    }

    private void requirePositive(String key, Duration value) {
        if (value.isZero() || value.isNegative()) {
            problems.add(key + " must be positive, got " + value.toMillis() + " ms");
        }
    }
}

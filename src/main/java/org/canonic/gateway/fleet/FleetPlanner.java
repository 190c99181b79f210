package org.canonic.gateway.fleet;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.GatewayConfig.BackendConfig;
import org.canonic.gateway.config.GatewayConfig.RouteConfig;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Works out the fleet the gateway starts with, from configuration and the registrations kept in the state
 * directory, or adds every problem found to the boot's list (fail closed at boot).
 *
 * <p>A configured backend without a base URL is absent, not an error: deployments set only the variables of the
 * providers they use. A route is always listed, even with no backend at all (it answers 503 until one joins). A name
 * that nothing declares (a typo in a route or in {@code FALLBACK_PROVIDER}), or a registration whose key reference
 * cannot be read, is an error.
 */
public final class FleetPlanner {

    private static final Logger LOG = Logger.getLogger(FleetPlanner.class);

    /**
     * The fleet to start.
     *
     * @param backends      every backend with its origin, in order: configured first, then registered
     * @param registrations the registered backends' registrations, by name
     * @param aliases       each route's configured aliases, in configuration order
     * @param members       each route's backends in order
     * @param fallback      the fallback backend's name, or null
     */
    public record Plan(Map<String, Backend> backends, Map<String, BackendRegistration> registrations,
                       Map<String, List<String>> aliases, Map<String, List<String>> members, String fallback) {
    }

    private final GatewayConfig config;
    private final BackendResolver resolver;

    public FleetPlanner(GatewayConfig config, Optional<String> simulatorBaseUrl, Function<String, String> environment) {
        this.config = config;
        this.resolver = new BackendResolver(config.defaults(), simulatorBaseUrl, environment, KeyPolicy.of(config));
    }

    public BackendResolver resolver() {
        return resolver;
    }

    /** The plan; when {@code problems} grew, the plan must not be used. */
    public Plan plan(RegistrationStore.Contents stored, List<String> problems) {
        Map<String, Backend> backends = new LinkedHashMap<>();
        config.backends().forEach((name, backend) -> configured(name, backend, problems)
                .ifPresent(b -> backends.put(name, b)));

        Map<String, List<String>> aliases = new LinkedHashMap<>();
        Map<String, List<String>> members = new LinkedHashMap<>();
        config.routes().forEach((name, route) -> {
            aliases.put(name, aliases(route));
            members.put(name, members(name, route, backends, problems));
        });
        checkAliases(aliases, problems);

        Map<String, BackendRegistration> registrations = new LinkedHashMap<>();
        for (BackendRegistration registration : stored.backends()) {
            String name = registration.definition().name();
            if (backends.containsKey(name) || config.backends().containsKey(name)) {
                problems.add("registered backend " + name + " has the name of a configured backend; remove one");
                continue;
            }
            List<String> own = new ArrayList<>();
            resolver.resolve(registration.definition(), BackendResolver.apiNaming(), own).ifPresent(backend -> {
                backends.put(name, backend);
                registrations.put(name, registration);
            });
            own.forEach(problem -> problems.add("registered backend " + name + ": " + problem
                    + " (registrations are kept in the state directory, GATEWAY_STATE_DIR)"));
            for (BackendRegistration.Membership membership : registration.routes()) {
                if (!members.containsKey(membership.route())) {
                    problems.add("registered backend " + name + " joins route '" + membership.route()
                            + "', which the configuration no longer declares");
                }
            }
        }
        restoreOrder(members, stored.routeOrder(), registrations);

        String fallback = fallback(backends, problems);
        return new Plan(backends, registrations, aliases, members, fallback);
    }

    private Optional<Backend> configured(String name, BackendConfig backend, List<String> problems) {
        Optional<String> baseUrl = backend.baseUrl().map(String::trim).filter(url -> !url.isEmpty());
        if (baseUrl.isEmpty()) {
            return Optional.empty();
        }
        BackendDefinition definition = new BackendDefinition(name, baseUrl.get(), backend.model().orElse(null),
                configuredKey(name, backend, problems),
                backend.tries().isPresent() ? backend.tries().getAsInt() : null,
                backend.retryDelay().orElse(null), backend.clocks().connect().orElse(null),
                backend.clocks().firstToken().orElse(null), backend.clocks().idle().orElse(null),
                backend.clocks().total().orElse(null),
                backend.maxConcurrency().isPresent() ? backend.maxConcurrency().getAsInt() : null,
                backend.probe(),
                backend.contextWindow().isPresent() ? backend.contextWindow().getAsInt() : null,
                backend.tokensMax().isPresent() ? backend.tokensMax().getAsInt() : null,
                backend.loadSignals().orElse(null));
        return resolver.resolve(definition, BackendResolver.configNaming(name), problems);
    }

    /** The key given by configuration: a value or a secret file (read by the resolver), never both. */
    private static ApiKeyRef configuredKey(String name, BackendConfig backend, List<String> problems) {
        Optional<String> key = backend.apiKey().map(String::trim).filter(k -> !k.isEmpty());
        Optional<String> file = backend.apiKeyFile().map(String::trim).filter(f -> !f.isEmpty());
        if (key.isPresent() && file.isPresent()) {
            problems.add("gateway.backends." + name + ".api-key and .api-key-file are both set ("
                    + keyVariable(name) + " and " + keyVariable(name) + "_FILE); set one");
            return null;
        }
        if (file.isPresent()) {
            return new ApiKeyRef.File(file.get());
        }
        return key.map(k -> (ApiKeyRef) new ApiKeyRef.Configured(new Backend.Secret(k))).orElse(null);
    }

    /** The variable that sets a backend's key: the legacy name of the three classic backends, else the mapped one. */
    static String keyVariable(String backend) {
        return switch (backend) {
            case "runpod" -> "RUNPOD_API_KEY";
            case "vastai", "vastai-kilocode" -> "VASTAI_VLLM_API_KEY";
            default -> "GATEWAY_BACKENDS_" + backend.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_")
                    + "_API_KEY";
        };
    }

    private static List<String> aliases(RouteConfig route) {
        Set<String> aliases = new LinkedHashSet<>();
        route.models().ifPresent(models -> models.stream().map(String::trim).filter(a -> !a.isEmpty())
                .forEach(aliases::add));
        return List.copyOf(aliases);
    }

    private List<String> members(String name, RouteConfig route, Map<String, Backend> backends,
                                 List<String> problems) {
        List<String> present = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        for (String backendName : route.backends().orElse(List.of())) {
            String trimmed = backendName.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            if (backends.containsKey(trimmed)) {
                present.add(trimmed);
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
        return present;
    }

    /** An alias must name one route only: a client could not tell which one it gets. */
    private static void checkAliases(Map<String, List<String>> aliases, List<String> problems) {
        Map<String, String> owner = new LinkedHashMap<>();
        aliases.forEach((route, names) -> names.forEach(alias -> {
            String other = owner.putIfAbsent(alias, route);
            if (other != null) {
                problems.add("model name '" + alias + "' is an alias of both route '" + other + "' and route '"
                        + route + "'; give each route its own names");
            }
        }));
    }

    /**
     * Puts registered backends back where they were: the stored order of each route, with configured backends the
     * store does not know (added to configuration since) at the end.
     */
    static void restoreOrder(Map<String, List<String>> members, Map<String, List<String>> stored,
                             Map<String, BackendRegistration> registrations) {
        members.forEach((route, configured) -> {
            List<String> order = new ArrayList<>();
            for (String name : stored.getOrDefault(route, List.of())) {
                boolean joins = registrations.containsKey(name) && registrations.get(name).routes().stream()
                        .anyMatch(m -> m.route().equals(route));
                if ((configured.contains(name) || joins) && !order.contains(name)) {
                    order.add(name);
                }
            }
            configured.stream().filter(name -> !order.contains(name)).forEach(order::add);
            registrations.forEach((name, registration) -> {
                if (!order.contains(name) && registration.routes().stream().anyMatch(m -> m.route().equals(route))) {
                    order.add(name);
                }
            });
            configured.clear();
            configured.addAll(order);
        });
    }

    private String fallback(Map<String, Backend> backends, List<String> problems) {
        Optional<String> name = config.fallback().map(String::trim).filter(n -> !n.isEmpty());
        if (name.isEmpty()) {
            return null;
        }
        if (!backends.containsKey(name.get())) {
            problems.add("the fallback backend '" + name.get() + "' (FALLBACK_PROVIDER / gateway.fallback) "
                    + (config.backends().containsKey(name.get()) ? "has no base URL" : "is not declared")
                    + "; known backends with a base URL: " + backends.keySet());
            return null;
        }
        return name.get();
    }
}

package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A backend registered through the admin API, as JSON: what {@code POST /admin/backends} takes, what
 * {@code PATCH} changes, and what the state directory keeps. The key is only ever a reference.
 *
 * <pre>
 * {"name":"vast-7","base_url":"http://203.0.113.9:41234/v1","model":"Qwen/Qwen2.5-7B-Instruct",
 *  "routes":["chat", {"route":"kilocode","position":0}], "api_key_env":"VAST7_VLLM_KEY",
 *  "tries":2, "retry_delay_ms":500, "max_concurrency":64, "probe":"vllm", "context_window":16384,
 *  "tokens_max":8192, "clocks":{"connect_ms":5000,"first_token_ms":120000,"idle_ms":60000,"total_ms":900000}}
 * </pre>
 *
 * @param definition the backend's settings
 * @param routes     the routes it joins, each at a position in the route's order (null = last)
 */
public record BackendRegistration(BackendDefinition definition, List<Membership> routes) {

    /** One route the backend joins; {@code position} is its 0-based place among the route's backends. */
    public record Membership(String route, Integer position) {
    }

    /** Names are metric labels and appear in headers: short, lower case, no surprises. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    /** Environment variables a registration may name: not the gateway's own secrets. */
    private static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]{0,127}");

    private static final Set<String> FIELDS = Set.of("name", "base_url", "model", "routes", "api_key_env",
            "api_key_file", "tries", "retry_delay_ms", "max_concurrency", "probe", "context_window", "tokens_max",
            "clocks", "load_signals", "tls_certificate_file");
    private static final Set<String> CLOCKS = Set.of("connect_ms", "first_token_ms", "idle_ms", "total_ms");
    /** What a change may not touch: the pool and probes were built from them. */
    private static final Set<String> FIXED = Set.of("name", "base_url", "model", "probe", "load_signals",
            "tls_certificate_file");

    /** Whether {@code other} builds the same pool and probes (URL, model, probe); else it is a new backend. */
    boolean sameSource(BackendRegistration other) {
        return java.util.Objects.equals(definition.baseUrl(), other.definition.baseUrl())
                && java.util.Objects.equals(definition.model(), other.definition.model())
                && java.util.Objects.equals(definition.probe(), other.definition.probe())
                && java.util.Objects.equals(definition.loadSignals(), other.definition.loadSignals())
                && java.util.Objects.equals(definition.tlsCertificateFile(), other.definition.tlsCertificateFile());
    }

    /** Reads a registration; every problem is added to {@code problems} (the result is then unusable). */
    public static BackendRegistration parse(JsonNode json, List<String> problems) {
        if (json == null || !json.isObject()) {
            problems.add("the body must be a JSON object");
            return null;
        }
        unknownFields(json, FIELDS, "", problems);
        String name = text(json, "name", problems);
        if (name == null) {
            problems.add("name is required");
        } else if (!NAME.matcher(name).matches()) {
            problems.add("name must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
        }
        List<Membership> routes = memberships(json.get("routes"), problems);
        if (routes != null && routes.isEmpty()) {
            problems.add("routes must name at least one route");
        }
        if (routes == null) {
            problems.add("routes is required: the routes this backend joins");
        }
        JsonNode clocks = json.path("clocks");
        if (json.has("clocks") && !clocks.isObject()) {
            problems.add("clocks must be an object");
        } else {
            unknownFields(clocks, CLOCKS, "clocks.", problems);
        }
        BackendDefinition definition = new BackendDefinition(name, text(json, "base_url", problems),
                text(json, "model", problems), apiKey(json, problems), integer(json, "tries", problems),
                millis(json, "retry_delay_ms", problems), millis(clocks, "connect_ms", problems),
                millis(clocks, "first_token_ms", problems), millis(clocks, "idle_ms", problems),
                millis(clocks, "total_ms", problems), integer(json, "max_concurrency", problems),
                text(json, "probe", problems), integer(json, "context_window", problems),
                integer(json, "tokens_max", problems), bool(json, "load_signals", problems),
                text(json, "tls_certificate_file", problems));
        return new BackendRegistration(definition, routes == null ? List.of() : routes);
    }

    /**
     * This registration with a change applied ({@code PATCH}): given fields replace, {@code null} resets to the
     * default, absent fields stay. Name, URL, model and probe kind cannot change.
     */
    public BackendRegistration patched(JsonNode change, List<String> problems) {
        if (change == null || !change.isObject()) {
            problems.add("the body must be a JSON object");
            return this;
        }
        for (String fixed : FIXED) {
            if (change.has(fixed)) {
                problems.add(fixed + " cannot change on a registered backend: deregister it and register it again");
            }
        }
        ObjectNode merged = toJson();
        Iterator<Map.Entry<String, JsonNode>> fields = change.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals("clocks") && field.getValue().isObject() && merged.has("clocks")) {
                ObjectNode clocks = (ObjectNode) merged.get("clocks");
                field.getValue().fields().forEachRemaining(clock -> clocks.set(clock.getKey(), clock.getValue()));
            } else if (field.getKey().startsWith("api_key_")) {
                merged.remove("api_key_env");
                merged.remove("api_key_file");
                merged.set(field.getKey(), field.getValue());
            } else {
                merged.set(field.getKey(), field.getValue());
            }
        }
        removeNulls(merged);
        return parse(merged, problems);
    }

    /** The registration as JSON: what is persisted and shown. Holds the key's reference only, never a key. */
    public ObjectNode toJson() {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        BackendDefinition d = definition;
        json.put("name", d.name());
        json.put("base_url", d.baseUrl());
        json.put("model", d.model());
        var routeArray = json.putArray("routes");
        for (Membership membership : routes) {
            if (membership.position() == null) {
                routeArray.add(membership.route());
            } else {
                routeArray.addObject().put("route", membership.route()).put("position", membership.position());
            }
        }
        if (d.apiKey() instanceof ApiKeyRef.Env env) {
            json.put("api_key_env", env.variable());
        } else if (d.apiKey() instanceof ApiKeyRef.File file) {
            json.put("api_key_file", file.path());
        }
        putIfSet(json, "tries", d.tries());
        putIfSet(json, "retry_delay_ms", d.retryDelay());
        putIfSet(json, "max_concurrency", d.maxConcurrency());
        if (d.probe() != null) {
            json.put("probe", d.probe());
        }
        putIfSet(json, "context_window", d.contextWindow());
        putIfSet(json, "tokens_max", d.tokensMax());
        if (d.loadSignals() != null) {
            json.put("load_signals", d.loadSignals());
        }
        if (d.tlsCertificateFile() != null) {
            json.put("tls_certificate_file", d.tlsCertificateFile());
        }
        if (d.connect() != null || d.firstToken() != null || d.idle() != null || d.total() != null) {
            ObjectNode clocks = json.putObject("clocks");
            putIfSet(clocks, "connect_ms", d.connect());
            putIfSet(clocks, "first_token_ms", d.firstToken());
            putIfSet(clocks, "idle_ms", d.idle());
            putIfSet(clocks, "total_ms", d.total());
        }
        return json;
    }

    private static List<Membership> memberships(JsonNode routes, List<String> problems) {
        if (routes == null || routes.isNull()) {
            return null;
        }
        if (!routes.isArray()) {
            problems.add("routes must be an array of route names or {\"route\",\"position\"} objects");
            return List.of();
        }
        List<Membership> memberships = new ArrayList<>();
        for (JsonNode route : routes) {
            if (route.isTextual()) {
                memberships.add(new Membership(route.asText(), null));
            } else if (route.isObject() && route.path("route").isTextual()) {
                unknownFields(route, Set.of("route", "position"), "routes[].", problems);
                Integer position = integer(route, "position", problems);
                if (position != null && position < 0) {
                    problems.add("routes[].position must not be negative");
                }
                memberships.add(new Membership(route.get("route").asText(), position));
            } else {
                problems.add("routes must be an array of route names or {\"route\",\"position\"} objects");
            }
        }
        if (memberships.stream().map(Membership::route).distinct().count() < memberships.size()) {
            problems.add("routes names a route twice");
        }
        return memberships;
    }

    private static ApiKeyRef apiKey(JsonNode json, List<String> problems) {
        String env = text(json, "api_key_env", problems);
        String file = text(json, "api_key_file", problems);
        if (env != null && file != null) {
            problems.add("give api_key_env or api_key_file, not both");
            return null;
        }
        if (env != null) {
            if (!ENV_NAME.matcher(env).matches()) {
                problems.add("api_key_env must be an environment variable name (A-Z, 0-9, _)");
            } else if (env.startsWith("GATEWAY_")) {
                problems.add("api_key_env may not name the gateway's own settings (GATEWAY_*)");
            }
            return new ApiKeyRef.Env(env);
        }
        if (file != null) {
            if (!file.startsWith("/")) {
                problems.add("api_key_file must be an absolute path");
            }
            return new ApiKeyRef.File(file);
        }
        return null;
    }

    private static void unknownFields(JsonNode json, Set<String> known, String prefix, List<String> problems) {
        json.fieldNames().forEachRemaining(field -> {
            if (!known.contains(field)) {
                problems.add("unknown field '" + prefix + field + "'" + (field.equals("api_key")
                        ? " (give the key as a reference: api_key_env or api_key_file, never the key itself)" : ""));
            }
        });
    }

    private static String text(JsonNode json, String field, List<String> problems) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            problems.add(field + " must be a string");
            return null;
        }
        return value.asText();
    }

    private static Boolean bool(JsonNode json, String field, List<String> problems) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isBoolean()) {
            problems.add(field + " must be true or false");
            return null;
        }
        return value.booleanValue();
    }

    private static Integer integer(JsonNode json, String field, List<String> problems) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt()) {
            problems.add(field + " must be an integer");
            return null;
        }
        return value.intValue();
    }

    private static Duration millis(JsonNode json, String field, List<String> problems) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            problems.add(field + " must be an integer number of milliseconds");
            return null;
        }
        return Duration.ofMillis(value.longValue());
    }

    private static void putIfSet(ObjectNode json, String field, Integer value) {
        if (value != null) {
            json.put(field, value);
        }
    }

    private static void putIfSet(ObjectNode json, String field, Duration value) {
        if (value != null) {
            json.put(field, value.toMillis());
        }
    }

    private static void removeNulls(ObjectNode json) {
        List<String> nulls = new ArrayList<>();
        json.fields().forEachRemaining(field -> {
            if (field.getValue().isNull()) {
                nulls.add(field.getKey());
            } else if (field.getValue().isObject()) {
                removeNulls((ObjectNode) field.getValue());
            }
        });
        nulls.forEach(json::remove);
    }
}

package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.compute.ComputeException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One recipe's capacity policy, as plain checked values: from the configuration ({@link #of}) or from the body of
 * {@code PUT /admin/compute/capacity/{recipe}} ({@link #parse}, over the policy it replaces). Durations are in
 * seconds on the wire.
 */
public record CapacityPolicy(String recipe, int minInstances, int maxInstances, List<String> providers, String gpu,
                             Double minVramGb, Double maxUsdPerHour, double scaleOutWaitingPerInstance,
                             Duration scaleOutWindow, double scaleInOpenPerInstance, Duration scaleInWindow,
                             Duration scaleOutCooldown, Duration scaleInCooldown, ScaleIn scaleInAction,
                             Order scaleInOrder, double plannedHours, Duration drainDeadline,
                             List<CapacityWindow> windows, ScaleOutSignal scaleOutSignal, double scaleOutTtftP90Ms,
                             int maxScaleOutStep) {

    public static final int MAX_INSTANCES_LIMIT = 64;
    /** The most instances one scale-out decision launches unless the policy says otherwise. */
    public static final int DEFAULT_MAX_SCALE_OUT_STEP = 4;
    /** The most windows one policy may have. */
    public static final int MAX_WINDOWS = 16;

    public CapacityPolicy {
        windows = windows == null ? List.of() : List.copyOf(windows);
    }

    /** A policy with the default {@code max_scale_out_step}. */
    public CapacityPolicy(String recipe, int minInstances, int maxInstances, List<String> providers, String gpu,
                          Double minVramGb, Double maxUsdPerHour, double scaleOutWaitingPerInstance,
                          Duration scaleOutWindow, double scaleInOpenPerInstance, Duration scaleInWindow,
                          Duration scaleOutCooldown, Duration scaleInCooldown, ScaleIn scaleInAction,
                          Order scaleInOrder, double plannedHours, Duration drainDeadline,
                          List<CapacityWindow> windows, ScaleOutSignal scaleOutSignal, double scaleOutTtftP90Ms) {
        this(recipe, minInstances, maxInstances, providers, gpu, minVramGb, maxUsdPerHour, scaleOutWaitingPerInstance,
                scaleOutWindow, scaleInOpenPerInstance, scaleInWindow, scaleOutCooldown, scaleInCooldown,
                scaleInAction, scaleInOrder, plannedHours, drainDeadline, windows, scaleOutSignal, scaleOutTtftP90Ms,
                DEFAULT_MAX_SCALE_OUT_STEP);
    }

    /** This policy launching at most {@code step} instances per scale-out decision. */
    public CapacityPolicy withMaxScaleOutStep(int step) {
        return new CapacityPolicy(recipe, minInstances, maxInstances, providers, gpu, minVramGb, maxUsdPerHour,
                scaleOutWaitingPerInstance, scaleOutWindow, scaleInOpenPerInstance, scaleInWindow, scaleOutCooldown,
                scaleInCooldown, scaleInAction, scaleInOrder, plannedHours, drainDeadline, windows, scaleOutSignal,
                scaleOutTtftP90Ms, step);
    }

    /** A policy without scheduled windows. */
    public CapacityPolicy(String recipe, int minInstances, int maxInstances, List<String> providers, String gpu,
                          Double minVramGb, Double maxUsdPerHour, double scaleOutWaitingPerInstance,
                          Duration scaleOutWindow, double scaleInOpenPerInstance, Duration scaleInWindow,
                          Duration scaleOutCooldown, Duration scaleInCooldown, ScaleIn scaleInAction,
                          Order scaleInOrder, double plannedHours, Duration drainDeadline) {
        this(recipe, minInstances, maxInstances, providers, gpu, minVramGb, maxUsdPerHour, scaleOutWaitingPerInstance,
                scaleOutWindow, scaleInOpenPerInstance, scaleInWindow, scaleOutCooldown, scaleInCooldown,
                scaleInAction, scaleInOrder, plannedHours, drainDeadline, List.of());
    }

    /** A policy scaling out on the waiting requests. */
    public CapacityPolicy(String recipe, int minInstances, int maxInstances, List<String> providers, String gpu,
                          Double minVramGb, Double maxUsdPerHour, double scaleOutWaitingPerInstance,
                          Duration scaleOutWindow, double scaleInOpenPerInstance, Duration scaleInWindow,
                          Duration scaleOutCooldown, Duration scaleInCooldown, ScaleIn scaleInAction,
                          Order scaleInOrder, double plannedHours, Duration drainDeadline,
                          List<CapacityWindow> windows) {
        this(recipe, minInstances, maxInstances, providers, gpu, minVramGb, maxUsdPerHour, scaleOutWaitingPerInstance,
                scaleOutWindow, scaleInOpenPerInstance, scaleInWindow, scaleOutCooldown, scaleInCooldown,
                scaleInAction, scaleInOrder, plannedHours, drainDeadline, windows, ScaleOutSignal.WAITING_PER_INSTANCE,
                DEFAULT_TTFT_P90_MS);
    }

    /**
     * Whether the signal this policy follows calls for more capacity. With TTFT: the p90 at or above the target, or,
     * when no first token came since the last look, requests waiting (none got a first token in all that time).
     */
    boolean wantsMore(Signal signal) {
        if (scaleOutSignal == ScaleOutSignal.TTFT_P90_MS) {
            return Double.isNaN(signal.ttftP90Ms()) ? signal.waitingPerInstance() > 0
                    : signal.ttftP90Ms() >= scaleOutTtftP90Ms;
        }
        return signal.waitingPerInstance() >= scaleOutWaitingPerInstance;
    }

    /** The signal this policy follows against its target, for decisions. */
    String demand(Signal signal) {
        if (scaleOutSignal == ScaleOutSignal.TTFT_P90_MS) {
            return Double.isNaN(signal.ttftP90Ms()) ? "no first token since the last look while "
                    + CapacityController.round(signal.waitingPerInstance()) + " requests wait per instance"
                    : "TTFT p90 " + Math.round(signal.ttftP90Ms()) + " ms (target " + Math.round(scaleOutTtftP90Ms)
                    + " ms)";
        }
        return "waiting " + CapacityController.round(signal.waitingPerInstance()) + " per instance (target "
                + scaleOutWaitingPerInstance + ")";
    }

    /** This policy with the minimum a scheduled window raised it to (see {@link CapacityWindows}). */
    CapacityPolicy withMinInstances(int min) {
        return min == minInstances ? this : new CapacityPolicy(recipe, min, maxInstances, providers, gpu, minVramGb,
                maxUsdPerHour, scaleOutWaitingPerInstance, scaleOutWindow, scaleInOpenPerInstance, scaleInWindow,
                scaleOutCooldown, scaleInCooldown, scaleInAction, scaleInOrder, plannedHours, drainDeadline, windows,
                scaleOutSignal, scaleOutTtftP90Ms, maxScaleOutStep);
    }

    public enum ScaleIn { STOP, DESTROY }

    public enum Order { NEWEST, MOST_EXPENSIVE }

    /**
     * What a scale-out follows: requests waiting per serving instance, or the TTFT p90 of the first tokens the
     * recipe's instances streamed since the last decision (in milliseconds).
     */
    public enum ScaleOutSignal { WAITING_PER_INSTANCE, TTFT_P90_MS }

    public static final double DEFAULT_TTFT_P90_MS = 2000;

    private static final Set<String> FIELDS = Set.of("min_instances", "max_instances", "providers", "gpu",
            "min_vram_gb", "max_usd_per_hour", "scale_out_waiting_per_instance", "scale_out_window_seconds",
            "scale_in_open_per_instance", "scale_in_window_seconds", "scale_out_cooldown_seconds",
            "scale_in_cooldown_seconds", "scale_in_action", "scale_in_order", "planned_hours",
            "drain_deadline_seconds", "windows", "scale_out_signal", "scale_out_ttft_p90_ms", "max_scale_out_step");

    /** A configured policy; what is wrong with its windows is added to {@code problems}. */
    static CapacityPolicy of(String recipe, CapacityConfig.Policy c, List<String> problems) {
        String prefix = "gateway.capacity.policies." + recipe + ".windows";
        List<CapacityWindow> windows = new ArrayList<>();
        List<CapacityConfig.Window> configured = c.windows().orElse(List.of());
        for (int k = 0; k < configured.size(); k++) {
            CapacityConfig.Window w = configured.get(k);
            String at = prefix + "[" + k + "].";
            try {
                windows.add(CapacityWindow.parse(w.days().orElse(null), w.from().orElse(null), w.to().orElse(null),
                        w.zone().orElse(null), w.minInstances().orElse(null), f -> at + f.replace('_', '-')));
            } catch (CapacityWindow.Invalid e) {
                problems.add(e.getMessage());
            }
        }
        if (configured.size() > MAX_WINDOWS) {
            problems.add(prefix + " may hold at most " + MAX_WINDOWS + " windows, got " + configured.size());
        }
        if (windows.size() < configured.size()) {
            windows.clear(); // the boot stops anyway; kept empty so that problems() names no window by a wrong index
        }
        return new CapacityPolicy(recipe, c.minInstances(), c.maxInstances(),
                c.providers().stream().map(p -> p.strip().toLowerCase(Locale.ROOT)).toList(),
                c.gpu().map(String::strip).filter(g -> !g.isEmpty()).orElse(null), c.minVramGb().orElse(null),
                c.maxUsdPerHour().orElse(null), c.scaleOutWaitingPerInstance(), c.scaleOutWindow(),
                c.scaleInOpenPerInstance(), c.scaleInWindow(), c.scaleOutCooldown(), c.scaleInCooldown(),
                enumOf(ScaleIn.class, c.scaleInAction()), enumOf(Order.class, c.scaleInOrder()), c.plannedHours(),
                c.drainDeadline(), windows, enumOf(ScaleOutSignal.class, c.scaleOutSignal()), c.scaleOutTtftP90Ms(),
                c.maxScaleOutStep());
    }

    /**
     * {@code body} over {@code base} (the policy in force, or the defaults): fields left out keep their value.
     *
     * @throws ComputeException 400 {@code invalid_capacity_policy} naming the field
     */
    static CapacityPolicy parse(String recipe, JsonNode body, CapacityPolicy base) {
        if (body == null || !body.isObject()) {
            throw invalid(null, "The body must be a JSON object of policy fields.");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw invalid(name, "Unknown field '" + name + "'; the fields are " + new java.util.TreeSet<>(FIELDS)
                        + ".");
            }
        }
        List<String> providers = base.providers;
        if (body.has("providers")) {
            JsonNode list = body.get("providers");
            if (!list.isArray() || list.isEmpty()) {
                throw invalid("providers", "providers must be a non-empty list, e.g. [\"vastai\",\"runpod\"].");
            }
            List<String> names = new ArrayList<>();
            for (JsonNode p : list) {
                if (!p.isTextual()) {
                    throw invalid("providers", "providers must be a list of strings.");
                }
                names.add(p.asText().strip().toLowerCase(Locale.ROOT));
            }
            providers = List.copyOf(names);
        }
        return new CapacityPolicy(recipe, integer(body, "min_instances", base.minInstances),
                integer(body, "max_instances", base.maxInstances), providers,
                text(body, "gpu", base.gpu), optionalNumber(body, "min_vram_gb", base.minVramGb),
                optionalNumber(body, "max_usd_per_hour", base.maxUsdPerHour),
                number(body, "scale_out_waiting_per_instance", base.scaleOutWaitingPerInstance),
                seconds(body, "scale_out_window_seconds", base.scaleOutWindow),
                number(body, "scale_in_open_per_instance", base.scaleInOpenPerInstance),
                seconds(body, "scale_in_window_seconds", base.scaleInWindow),
                seconds(body, "scale_out_cooldown_seconds", base.scaleOutCooldown),
                seconds(body, "scale_in_cooldown_seconds", base.scaleInCooldown),
                body.has("scale_in_action") ? enumField(ScaleIn.class, body, "scale_in_action") : base.scaleInAction,
                body.has("scale_in_order") ? enumField(Order.class, body, "scale_in_order") : base.scaleInOrder,
                number(body, "planned_hours", base.plannedHours),
                seconds(body, "drain_deadline_seconds", base.drainDeadline),
                body.has("windows") ? windows(body.get("windows")) : base.windows,
                body.has("scale_out_signal") ? enumField(ScaleOutSignal.class, body, "scale_out_signal")
                        : base.scaleOutSignal, number(body, "scale_out_ttft_p90_ms", base.scaleOutTtftP90Ms),
                integer(body, "max_scale_out_step", base.maxScaleOutStep));
    }

    /** The {@code windows} of a PUT body (see {@link CapacityWindow#list}), refused naming the field at fault. */
    private static List<CapacityWindow> windows(JsonNode list) {
        try {
            return CapacityWindow.list(list, MAX_WINDOWS);
        } catch (CapacityWindow.Invalid e) {
            throw invalid(e.field(), e.getMessage());
        }
    }

    /** A policy with the configuration's defaults, for a recipe that has none yet. */
    static CapacityPolicy defaults(String recipe) {
        return new CapacityPolicy(recipe, 0, 1, List.of("vastai", "runpod"), null, null, null, 2,
                Duration.ofMinutes(2), 0, Duration.ofMinutes(15), Duration.ofMinutes(5), Duration.ofMinutes(10),
                ScaleIn.STOP, Order.NEWEST, 4, Duration.ofMinutes(5));
    }

    /**
     * What is out of range, one message per field (empty when all is well); {@code prefix} names the source: a
     * configuration prefix ({@code gateway.capacity.policies.main}), or null for a PUT body (its JSON field names).
     */
    List<String> problems(String prefix, Set<String> knownProviders, Set<String> knownRecipes, double maxHours) {
        List<String> problems = new ArrayList<>();
        java.util.function.UnaryOperator<String> f = kebab -> prefix != null ? prefix + "." + kebab
                : kebab.replace('-', '_') + (DURATIONS.contains(kebab) ? "_seconds" : "");
        if (!knownRecipes.contains(recipe)) {
            problems.add((prefix != null ? prefix + ": " : "") + "recipe '" + recipe + "' is not configured (gateway.compute.recipes: "
                    + knownRecipes + ")");
        }
        if (maxInstances < 1 || maxInstances > MAX_INSTANCES_LIMIT) {
            problems.add(f.apply("max-instances") + " must lie between 1 and " + MAX_INSTANCES_LIMIT + ", got "
                    + maxInstances);
        }
        if (minInstances < 0 || minInstances > maxInstances) {
            problems.add(f.apply("min-instances") + " must lie between 0 and max-instances (" + maxInstances + "), got "
                    + minInstances);
        }
        if (providers.isEmpty() || !knownProviders.containsAll(providers)
                || providers.stream().distinct().count() != providers.size()) {
            problems.add(f.apply("providers") + " must be distinct names among " + knownProviders + ", got "
                    + providers);
        }
        if (minVramGb != null && !(minVramGb > 0)) {
            problems.add(f.apply("min-vram-gb") + " must be positive, got " + minVramGb);
        }
        if (maxUsdPerHour != null && !(maxUsdPerHour > 0)) {
            problems.add(f.apply("max-usd-per-hour") + " must be positive, got " + maxUsdPerHour);
        }
        if (!(scaleOutWaitingPerInstance > 0) || scaleOutWaitingPerInstance > 10_000) {
            problems.add(f.apply("scale-out-waiting-per-instance") + " must lie in (0, 10000], got "
                    + scaleOutWaitingPerInstance);
        }
        if (!(scaleInOpenPerInstance >= 0) || scaleInOpenPerInstance >= scaleOutWaitingPerInstance) {
            problems.add(f.apply("scale-in-open-per-instance") + " must lie in [0, scale-out-waiting-per-instance), got "
                    + scaleInOpenPerInstance);
        }
        window(problems, f.apply("scale-out-window"), scaleOutWindow, Duration.ZERO);
        window(problems, f.apply("scale-in-window"), scaleInWindow, Duration.ofSeconds(1));
        window(problems, f.apply("scale-out-cooldown"), scaleOutCooldown, Duration.ZERO);
        window(problems, f.apply("scale-in-cooldown"), scaleInCooldown, Duration.ZERO);
        window(problems, f.apply("drain-deadline"), drainDeadline, Duration.ofSeconds(1));
        if (!(plannedHours > 0) || plannedHours > maxHours) {
            problems.add(f.apply("planned-hours") + " must lie in (0, " + maxHours + "] (gateway.compute.max-hours), got "
                    + plannedHours);
        }
        if (scaleInAction == null) {
            problems.add(f.apply("scale-in-action") + " must be stop or destroy");
        }
        if (scaleInOrder == null) {
            problems.add(f.apply("scale-in-order") + " must be newest or most_expensive");
        }
        if (scaleOutSignal == null) {
            problems.add(f.apply("scale-out-signal") + " must be waiting_per_instance or ttft_p90_ms");
        }
        if (!(scaleOutTtftP90Ms > 0) || scaleOutTtftP90Ms > 600_000) {
            problems.add(f.apply("scale-out-ttft-p90-ms") + " must lie in (0, 600000], got " + scaleOutTtftP90Ms);
        }
        if (maxScaleOutStep < 1 || maxScaleOutStep > MAX_INSTANCES_LIMIT) {
            problems.add(f.apply("max-scale-out-step") + " must lie between 1 and " + MAX_INSTANCES_LIMIT + ", got "
                    + maxScaleOutStep);
        }
        for (int k = 0; k < windows.size(); k++) {
            if (windows.get(k).minInstances() > maxInstances) {
                String name = prefix != null ? prefix + ".windows[" + k + "].min-instances"
                        : "windows[" + k + "].min_instances";
                problems.add(name + " must not exceed max-instances (" + maxInstances + "), got "
                        + windows.get(k).minInstances());
            }
        }
        return problems;
    }

    private static final Set<String> DURATIONS = Set.of("scale-out-window", "scale-in-window", "scale-out-cooldown",
            "scale-in-cooldown", "drain-deadline");

    private static void window(List<String> problems, String name, Duration value, Duration min) {
        if (value == null || value.compareTo(min) < 0 || value.compareTo(Duration.ofDays(1)) > 0) {
            problems.add(name + " must lie between " + min.toSeconds() + "s and 1d, got " + value);
        }
    }

    /** The policy as the admin API shows it. */
    public ObjectNode view() {
        ObjectNode v = JsonNodeFactory.instance.objectNode();
        v.put("recipe", recipe);
        v.put("min_instances", minInstances);
        v.put("max_instances", maxInstances);
        providers.forEach(v.putArray("providers")::add);
        v.put("gpu", gpu);
        v.put("min_vram_gb", minVramGb);
        v.put("max_usd_per_hour", maxUsdPerHour);
        v.put("scale_out_waiting_per_instance", scaleOutWaitingPerInstance);
        v.put("scale_out_window_seconds", scaleOutWindow.toSeconds());
        v.put("scale_in_open_per_instance", scaleInOpenPerInstance);
        v.put("scale_in_window_seconds", scaleInWindow.toSeconds());
        v.put("scale_out_cooldown_seconds", scaleOutCooldown.toSeconds());
        v.put("scale_in_cooldown_seconds", scaleInCooldown.toSeconds());
        v.put("scale_in_action", scaleInAction.name().toLowerCase(Locale.ROOT));
        v.put("scale_in_order", scaleInOrder.name().toLowerCase(Locale.ROOT));
        v.put("scale_out_signal", scaleOutSignal.name().toLowerCase(Locale.ROOT));
        v.put("scale_out_ttft_p90_ms", scaleOutTtftP90Ms);
        v.put("max_scale_out_step", maxScaleOutStep);
        v.put("planned_hours", plannedHours);
        v.put("drain_deadline_seconds", drainDeadline.toSeconds());
        com.fasterxml.jackson.databind.node.ArrayNode shown = v.putArray("windows");
        windows.forEach(w -> shown.add(w.view()));
        return v;
    }

    private static <E extends Enum<E>> E enumOf(Class<E> type, String value) {
        try {
            return Enum.valueOf(type, value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            return null;
        }
    }

    private static <E extends Enum<E>> E enumField(Class<E> type, JsonNode body, String field) {
        E value = body.get(field).isTextual() ? enumOf(type, body.get(field).asText()) : null;
        if (value == null) {
            throw invalid(field, field + " must be one of " + java.util.Arrays.stream(type.getEnumConstants())
                    .map(e -> e.name().toLowerCase(Locale.ROOT)).toList() + ".");
        }
        return value;
    }

    private static int integer(JsonNode body, String field, int base) {
        if (!body.has(field)) {
            return base;
        }
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw invalid(field, field + " must be an integer.");
        }
        return v.intValue();
    }

    private static double number(JsonNode body, String field, double base) {
        if (!body.has(field)) {
            return base;
        }
        JsonNode v = body.get(field);
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw invalid(field, field + " must be a number.");
        }
        return v.doubleValue();
    }

    private static Double optionalNumber(JsonNode body, String field, Double base) {
        if (body.has(field) && body.get(field).isNull()) {
            return null;
        }
        if (!body.has(field)) {
            return base;
        }
        return number(body, field, 0);
    }

    private static String text(JsonNode body, String field, String base) {
        if (!body.has(field)) {
            return base;
        }
        JsonNode v = body.get(field);
        if (v.isNull()) {
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank() || v.asText().length() > 64) {
            throw invalid(field, field + " must be a GPU name of 1 to 64 characters, or null.");
        }
        return v.asText().strip();
    }

    private static Duration seconds(JsonNode body, String field, Duration base) {
        if (!body.has(field)) {
            return base;
        }
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw invalid(field, field + " must be a whole number of seconds.");
        }
        return Duration.ofSeconds(v.longValue());
    }

    static ComputeException invalid(String field, String message) {
        ObjectNode details = JsonNodeFactory.instance.objectNode();
        details.put("param", field);
        return new ComputeException(400, "invalid_capacity_policy", message, details, false);
    }
}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /admin/compute/instances}: {@code {"provider","recipe","hours","offer_id"?,"confirm_estimate_usd"?,
 * "idle_stop_minutes"?,"readiness_deadline_seconds"?}}. Planned hours are required: an estimate needs them.
 */
public record ProvisionRequest(String provider, String recipe, double hours, String offerId,
                               Double confirmEstimateUsd, Integer idleStopMinutes, Integer readinessDeadlineSeconds) {

    private static final Set<String> FIELDS = Set.of("provider", "recipe", "hours", "offer_id",
            "confirm_estimate_usd", "idle_stop_minutes", "readiness_deadline_seconds");

    public static ProvisionRequest parse(JsonNode body, double maxHours) {
        List<String> problems = new ArrayList<>();
        if (body == null || !body.isObject()) {
            throw new ComputeException(400, "invalid_body", "The body must be a JSON object.");
        }
        body.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                problems.add("unknown field '" + f + "'");
            }
        });
        String provider = body.path("provider").isTextual() ? body.get("provider").asText() : null;
        String recipe = body.path("recipe").isTextual() ? body.get("recipe").asText() : null;
        if (provider == null) {
            problems.add("provider is required");
        }
        if (recipe == null) {
            problems.add("recipe is required");
        }
        JsonNode hours = body.get("hours");
        if (hours == null || !hours.isNumber() || hours.asDouble() <= 0 || hours.asDouble() > maxHours) {
            problems.add("hours (planned running hours, for the estimate) is required, above 0 and at most "
                    + maxHours);
        }
        JsonNode offer = body.get("offer_id");
        if (offer != null && !offer.isNull() && !offer.isTextual() && !offer.isIntegralNumber()) {
            problems.add("offer_id must be a string or an integer");
        }
        JsonNode confirm = body.get("confirm_estimate_usd");
        if (confirm != null && !confirm.isNull() && !confirm.isNumber()) {
            problems.add("confirm_estimate_usd must be a number (the estimate you were shown)");
        }
        Integer idle = positiveInt(body, "idle_stop_minutes", 7 * 24 * 60, problems);
        Integer deadline = positiveInt(body, "readiness_deadline_seconds", 24 * 3600, problems);
        if (!problems.isEmpty()) {
            throw new ComputeException(400, "invalid_body", "Invalid provision request: "
                    + String.join("; ", problems) + ".");
        }
        return new ProvisionRequest(provider, recipe, hours.asDouble(),
                offer == null || offer.isNull() ? null : offer.asText(),
                confirm == null || confirm.isNull() ? null : confirm.asDouble(), idle, deadline);
    }

    private static Integer positiveInt(JsonNode body, String field, int max, List<String> problems) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 1 || value.asInt() > max) {
            problems.add(field + " must be an integer from 1 to " + max);
            return null;
        }
        return value.asInt();
    }
}

package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.fleet.Route;

/** Requires a {@code model} that one of the routes serves; the allow-list is the routing table itself. */
final class ModelRouteFilter implements PolicyFilter {

    @Override
    public void check(PolicyContext request) {
        JsonNode model = request.body().get("model");
        if (model == null || model.isNull()) {
            throw Refusal.badRequest("'model' is required. Available models: " + available(request) + ".", "model",
                    "missing_required_parameter");
        }
        if (!model.isTextual() || model.asText().isBlank()) {
            throw Refusal.badRequest("'model' must be a non-empty string. Available models: " + available(request)
                    + ".", "model", "invalid_type");
        }
        String name = model.asText();
        Route route = request.fleet.routeFor(name).orElseThrow(() -> new Refusal(OpenAiError.invalidRequest(404,
                "The model '" + PolicyContext.printable(name) + "' does not exist or is not served here. Available models: "
                        + available(request) + ".", "model", "model_not_found")));
        request.model = name;
        request.route = route;
    }

    private static String available(PolicyContext request) {
        return String.join(", ", request.fleet.modelNames());
    }
}

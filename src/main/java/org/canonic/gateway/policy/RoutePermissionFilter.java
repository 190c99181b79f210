package org.canonic.gateway.policy;

import org.canonic.gateway.relay.OpenAiError;

/** A key limited to some routes may use only those. */
final class RoutePermissionFilter implements PolicyFilter {

    @Override
    public void check(PolicyContext request) {
        if (request.key != null && !request.key.allows(request.route().name())) {
            throw new Refusal(new OpenAiError(403, "This API key may not use model '" + request.model + "'.",
                    "permission_error", "model", "model_not_allowed"));
        }
    }
}

package org.canonic.gateway.policy;

import io.vertx.core.http.HttpHeaders;
import org.canonic.gateway.relay.OpenAiError;

/**
 * Client authentication: {@code Authorization: Bearer <key>} must match a configured key. Runs on headers alone,
 * before the body is read, so an unauthenticated client cannot make the gateway buffer a large upload. The keys are
 * read from the {@link KeyRing} for every request, so reloaded and revoked keys apply at once. With authentication
 * explicitly off ({@code GATEWAY_AUTH=none}) every client is {@code anonymous}.
 */
final class AuthFilter implements PolicyFilter {

    static final String ANONYMOUS = "anonymous";

    private final KeyRing keys;
    private final boolean required;

    AuthFilter(KeyRing keys, boolean required) {
        this.keys = keys;
        this.required = required;
    }

    @Override
    public void check(PolicyContext request) {
        if (!required) {
            request.keyId = ANONYMOUS;
            return;
        }
        String authorization = request.headers().get(HttpHeaders.AUTHORIZATION);
        if (authorization == null || authorization.isBlank()) {
            throw new Refusal(new OpenAiError(401, "Missing API key. Send it as 'Authorization: Bearer <key>'.",
                    "invalid_request_error", null, "missing_api_key"));
        }
        String key = authorization.regionMatches(true, 0, "Bearer ", 0, 7) ? authorization.substring(7).strip() : "";
        ClientKeys.Entry entry = key.isEmpty() ? null : keys.current().match(key).orElse(null);
        if (entry == null) {
            throw new Refusal(new OpenAiError(401, "Incorrect API key provided.", "invalid_request_error", null,
                    "invalid_api_key"));
        }
        request.keyId = entry.id();
        request.key = entry;
        keys.used(entry.id());
    }
}

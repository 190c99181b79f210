package org.canonic.gateway.policy;

import org.canonic.gateway.relay.OpenAiError;

/**
 * A request refused by policy. Carries the OpenAI-shaped error the client gets; has no stack trace because a
 * refusal is an expected outcome, not a bug, and must not flood logs.
 */
public final class Refusal extends RuntimeException {

    private final OpenAiError error;

    public Refusal(OpenAiError error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    public static Refusal badRequest(String message, String param, String code) {
        return new Refusal(OpenAiError.invalidRequest(400, message, param, code));
    }

    public OpenAiError error() {
        return error;
    }
}

package org.canonic.gateway.policy;

import org.canonic.gateway.relay.OpenAiError;

/**
 * A request refused by policy. Carries the OpenAI-shaped error the client gets; has no stack trace because a
 * refusal is an expected outcome, not a bug, and must not flood logs.
 */
public final class Refusal extends RuntimeException {

    private final OpenAiError error;
    private final long retryAfterSeconds;

    public Refusal(OpenAiError error) {
        this(error, 0);
    }

    /** A refusal worth retrying later: {@code Retry-After} tells the client when. */
    public Refusal(OpenAiError error, long retryAfterSeconds) {
        super(error.message(), null, false, false);
        this.error = error;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Seconds after which a retry may pass, 0 when retrying the same request cannot help. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public static Refusal badRequest(String message, String param, String code) {
        return new Refusal(OpenAiError.invalidRequest(400, message, param, code));
    }

    public OpenAiError error() {
        return error;
    }
}

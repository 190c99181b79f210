package org.canonic.gateway.policy;

/** The OpenAI operations the gateway proxies, with their path under a backend's {@code /v1}. */
public enum Endpoint {
    CHAT_COMPLETIONS("/chat/completions", "chat"),
    COMPLETIONS("/completions", "text_completion");

    private final String path;
    private final String operation;

    Endpoint(String path, String operation) {
        this.path = path;
        this.operation = operation;
    }

    /** The OpenTelemetry GenAI operation name ({@code gen_ai.operation.name}). */
    public String operation() {
        return operation;
    }

    /** Path of this operation under a backend's OpenAI base URL. */
    public String path() {
        return path;
    }

    /** Path clients call on the gateway. */
    public String clientPath() {
        return "/v1" + path;
    }
}

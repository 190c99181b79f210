package org.canonic.gateway.policy;

/** The OpenAI operations the gateway proxies, with their path under a backend's {@code /v1}. */
public enum Endpoint {
    CHAT_COMPLETIONS("/chat/completions"),
    COMPLETIONS("/completions");

    private final String path;

    Endpoint(String path) {
        this.path = path;
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

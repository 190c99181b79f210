package org.canonic.gateway.relay;

import io.vertx.core.http.HttpHeaders;

/**
 * Response headers the gateway adds to every answer, so a client or operator can tell what happened. Names are
 * lower case, as HTTP/2 wants them and as Vert.x compares them fastest.
 */
public final class GatewayHeaders {
    public static final String REQUEST_ID = "x-request-id";
    public static final String PROVIDER = "x-gateway-provider";
    public static final String ATTEMPTS = "x-gateway-attempts";
    public static final String ELAPSED_MS = "x-gateway-elapsed-ms";
    /** The completion limit the backend was sent, after ceilings and window fit. */
    public static final String MAX_TOKENS = "x-gateway-max-tokens";

    /** Provider value when the status line had to leave before a backend produced data (see keep-alives). */
    public static final String PROVIDER_PENDING = "pending";
    /** Provider value when no backend was involved (a refusal, or nothing routable). */
    public static final String PROVIDER_NONE = "none";

    /** The JSON media type, for the client's answers and the backend's requests alike. */
    public static final CharSequence APPLICATION_JSON = HttpHeaders.createOptimized("application/json");

    /**
     * The names above encoded once, as a request or response takes them: a String name is hashed and encoded again
     * on every put.
     */
    public static final class Encoded {
        public static final CharSequence REQUEST_ID = HttpHeaders.createOptimized(GatewayHeaders.REQUEST_ID);
        public static final CharSequence PROVIDER = HttpHeaders.createOptimized(GatewayHeaders.PROVIDER);
        public static final CharSequence ATTEMPTS = HttpHeaders.createOptimized(GatewayHeaders.ATTEMPTS);
        public static final CharSequence ELAPSED_MS = HttpHeaders.createOptimized(GatewayHeaders.ELAPSED_MS);
        public static final CharSequence MAX_TOKENS = HttpHeaders.createOptimized(GatewayHeaders.MAX_TOKENS);

        private Encoded() {
        }
    }

    private GatewayHeaders() {
    }
}

package org.canonic.gateway.policy;

import java.util.Locale;
import java.util.Set;

/** Which client headers never travel upstream, and why. */
final class ForwardedHeaders {

    /**
     * Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection; credentials and cookies belong to the
     * client-gateway link (upstream gets the backend's own key); length, encoding and type are set by the gateway
     * for the body it actually sends; {@code host} names the gateway, not the backend.
     */
    private static final Set<String> DROPPED = Set.of(
            "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
            "trailer", "transfer-encoding", "upgrade", "host", "content-length", "content-type", "accept-encoding",
            "accept", "expect", "authorization", "api-key", "x-api-key", "cookie", "openai-organization",
            "openai-project", "x-request-id", "x-http-method-override", "x-http-method", "x-method-override");

    private ForwardedHeaders() {
    }

    static boolean isDropped(String name) {
        return DROPPED.contains(name.toLowerCase(Locale.ROOT));
    }

    /** Whether {@code name} is listed in a {@code Connection} header value (those are hop-by-hop too). */
    static boolean listed(String connectionHeader, String name) {
        for (String token : connectionHeader.split(",")) {
            if (token.trim().equalsIgnoreCase(name)) {
                return true;
            }
        }
        return false;
    }
}

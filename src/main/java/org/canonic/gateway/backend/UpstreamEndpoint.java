package org.canonic.gateway.backend;

import java.net.URI;
import java.util.Locale;

/**
 * Where a backend's OpenAI API lives: scheme, host, port and the path prefix that ends in {@code /v1}.
 *
 * <p>Built from the base URL as OpenAI SDKs take it. {@code /v1} is appended when the operator left it out,
 * so {@code http://10.0.0.5:8000} and {@code http://10.0.0.5:8000/v1} mean the same backend. User info and query
 * strings are refused: they are where credentials hide, and credentials belong in {@code api-key}.
 */
public record UpstreamEndpoint(boolean ssl, String host, int port, String apiPath) {

    /**
     * Parses an OpenAI base URL, throwing {@link IllegalArgumentException} with a reason fit for an operator. The
     * reason never repeats the URL: a malformed one may carry a credential.
     */
    public static UpstreamEndpoint parse(String baseUrl) {
        URI uri;
        try {
            uri = new URI(baseUrl.trim());
        } catch (Exception e) {
            throw new IllegalArgumentException("is malformed: not a URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("is malformed: it must start with http:// or https://");
        }
        if (uri.getHost() == null || uri.getHost().isBlank()) {
            throw new IllegalArgumentException("is malformed: it has no host");
        }
        if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new IllegalArgumentException(
                    "is malformed: it must not carry user info, a query or a fragment (put credentials in the"
                    + " api-key setting)");
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            throw new IllegalArgumentException("has the port " + uri.getPort() + ": a port is 1 to 65535");
        }
        boolean ssl = scheme.equals("https");
        int port = uri.getPort() > 0 ? uri.getPort() : (ssl ? 443 : 80);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (!path.endsWith("/v1")) {
            path = path + "/v1";
        }
        return new UpstreamEndpoint(ssl, uri.getHost(), port, path);
    }

    /** Path of an OpenAI route under this backend, for example {@code apiPath("/chat/completions")}. */
    public String apiPath(String route) {
        return apiPath + route;
    }

    /** Path of a route at the server root (vLLM serves {@code /health} and {@code /tokenize} outside {@code /v1}). */
    public String rootPath(String route) {
        return apiPath.substring(0, apiPath.length() - "/v1".length()) + route;
    }

    /**
     * Whether this is a RunPod serverless endpoint ({@code /v2/<endpoint-id>/openai/v1}): those have no vLLM
     * {@code /health}; their worker pool is read from {@code /v2/<endpoint-id>/health} instead.
     */
    public boolean isRunPodServerless() {
        return apiPath.matches("/v2/[^/]+/openai/v1");
    }

    /** The RunPod serverless endpoint's own path ({@code /v2/<endpoint-id>}); only for serverless endpoints. */
    public String runPodEndpointPath() {
        return apiPath.substring(0, apiPath.length() - "/openai/v1".length());
    }

    /** Scheme, host and port only: safe to show in logs and admin views (no path ids, no keys). */
    public String origin() {
        return (ssl ? "https://" : "http://") + host + ":" + port;
    }
}

package org.canonic.gateway.policy;

import io.vertx.core.http.HttpHeaders;
import org.canonic.gateway.relay.OpenAiError;

/** Only {@code application/json} bodies are read: anything else is refused before the body is. */
final class ContentTypeFilter implements PolicyFilter {

    @Override
    public void check(PolicyContext request) {
        String contentType = request.headers().get(HttpHeaders.CONTENT_TYPE);
        if (contentType == null || !isJson(contentType)) {
            throw new Refusal(OpenAiError.invalidRequest(415, "Content-Type must be application/json (got "
                    + (contentType == null ? "none" : describe(contentType)) + ").", null, "unsupported_media_type"));
        }
    }

    private static boolean isJson(String contentType) {
        int semicolon = contentType.indexOf(';');
        String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip();
        return mediaType.equalsIgnoreCase("application/json");
    }

    private static String describe(String contentType) {
        String bounded = contentType.length() > 60 ? contentType.substring(0, 60) + "..." : contentType;
        return '"' + bounded.replaceAll("[^\\x20-\\x7e]", "?") + '"';
    }
}

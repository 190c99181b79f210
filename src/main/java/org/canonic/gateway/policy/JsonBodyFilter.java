package org.canonic.gateway.policy;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpHeaders;
import org.canonic.gateway.relay.OpenAiError;

import java.io.IOException;

/** Requires a JSON content type and a body that parses to a JSON object. */
final class JsonBodyFilter implements PolicyFilter {

    private final RequestJson json;

    JsonBodyFilter(RequestJson json) {
        this.json = json;
    }

    @Override
    public void check(PolicyContext request) {
        String contentType = request.headers().get(HttpHeaders.CONTENT_TYPE);
        if (contentType == null || !isJson(contentType)) {
            throw new Refusal(OpenAiError.invalidRequest(415,
                    "Content-Type must be application/json (got " + (contentType == null ? "none" : describe(contentType)) + ")",
                    null, "unsupported_media_type"));
        }
        if (request.rawBody().length() == 0) {
            throw Refusal.badRequest("The request body is empty; send a JSON object.", null, "invalid_json");
        }
        JsonNode parsed;
        try {
            parsed = json.parse(request.rawBody());
        } catch (StreamConstraintsException e) {
            throw Refusal.badRequest("The JSON body is nested too deeply or holds an oversized value.", null,
                    "invalid_json");
        } catch (JsonParseException e) {
            throw Refusal.badRequest("The body is not valid JSON: " + e.getOriginalMessage(), null, "invalid_json");
        } catch (IOException e) {
            throw Refusal.badRequest("The body is not valid JSON.", null, "invalid_json");
        }
        if (!(parsed instanceof ObjectNode object)) {
            throw Refusal.badRequest("The body must be a JSON object.", null, "invalid_json");
        }
        request.body = object;
    }

    private static boolean isJson(String contentType) {
        int semicolon = contentType.indexOf(';');
        String mediaType = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
        return mediaType.equalsIgnoreCase("application/json");
    }

    private static String describe(String contentType) {
        String trimmed = contentType.length() > 60 ? contentType.substring(0, 60) + "..." : contentType;
        return '"' + trimmed.replaceAll("[^\\x20-\\x7e]", "?") + '"';
    }
}

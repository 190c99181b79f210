package org.canonic.gateway.policy;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufUtil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Requires a body that parses to a JSON object (strict: no duplicate keys, bounded nesting, valid UTF-8). UTF-8 is
 * checked on its own first, strictly (RFC 3629: no overlong forms such as {@code C0 AF}, no surrogates, nothing past
 * U+10FFFF), because the JSON parser decodes some malformed sequences instead of refusing them.
 */
final class JsonBodyFilter implements PolicyFilter {

    private final RequestJson json;

    JsonBodyFilter(RequestJson json) {
        this.json = json;
    }

    @Override
    public void check(PolicyContext request) {
        if (request.rawBody().length() == 0) {
            throw Refusal.badRequest("The request body is empty; send a JSON object.", null, "invalid_json");
        }
        if (!ByteBufUtil.isText(request.rawBody().getByteBuf(), StandardCharsets.UTF_8)) {
            throw Refusal.badRequest("The body is not valid UTF-8 (RFC 3629: no overlong or surrogate sequences).",
                    null, "invalid_json");
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
}

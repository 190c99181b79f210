package org.canonic.gateway.ops;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.coordination.LockRequestException;

import java.util.Iterator;
import java.util.List;

/**
 * Reads a lock request body strictly: a JSON object with only the named fields, each of the expected type. A typo
 * ({@code "ttl": "1h"}) is refused with a message naming the field, rather than silently giving the default lease.
 */
final class LockRequestBody {

    private final ObjectNode json;

    private LockRequestBody(ObjectNode json) {
        this.json = json;
    }

    /**
     * @param optional whether an empty body is allowed (it then reads as {@code {}})
     * @throws LockRequestException (400) for anything else than such an object
     */
    static LockRequestBody parse(ObjectMapper mapper, String body, List<String> fields, boolean optional) {
        if (body == null || body.isBlank()) {
            if (optional) {
                return new LockRequestBody(mapper.createObjectNode());
            }
            throw invalid("The request body must be a JSON object with " + fields + ".", null, "invalid_json");
        }
        JsonNode parsed;
        try {
            parsed = mapper.reader()
                    .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .readTree(body);
        } catch (Exception e) {
            throw invalid("The request body is not valid JSON (or repeats a field); send a JSON object with "
                    + fields + ".", null, "invalid_json");
        }
        if (!(parsed instanceof ObjectNode object)) {
            throw invalid("The request body must be a JSON object with " + fields + ".", null, "invalid_json");
        }
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!fields.contains(name)) {
                throw invalid("Unknown field '" + name + "'; the fields are " + fields + ".", name, "unknown_field");
            }
        }
        return new LockRequestBody(object);
    }

    /** A string field, or null when absent or JSON null. */
    String text(String field) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw invalid("'" + field + "' must be a string.", field, "invalid_" + field);
        }
        return value.textValue();
    }

    /** A whole number of seconds, or null when absent or JSON null. */
    Long seconds(String field) {
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw invalid("'" + field + "' must be a whole number of seconds.", field, "invalid_ttl");
        }
        return value.longValue();
    }

    private static LockRequestException invalid(String message, String param, String code) {
        return LockRequestException.invalid(message, param, code);
    }
}

package org.canonic.gateway.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How admin bodies are read: with the application's one mapper, and a field given twice refused. Without that check
 * the last of two {@code "api_key_file"} (or {@code "ttl_seconds"}) silently wins, and what the audit log, a
 * reviewing proxy or the caller's own tooling read may not be what was applied.
 */
final class AdminJson {

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '([^']{1,64})'");

    private AdminJson() {
    }

    /** The body as a tree; a syntax error or a duplicate field throws, see {@link #problem}. */
    static JsonNode read(ObjectMapper mapper, String body) throws JsonProcessingException {
        return mapper.reader().with(StreamReadFeature.STRICT_DUPLICATE_DETECTION).readTree(body);
    }

    /** What to tell the caller about a body {@link #read} refused (never more of the body than a field name). */
    static String problem(Exception e) {
        Matcher duplicate = DUPLICATE.matcher(String.valueOf(e.getMessage()));
        return duplicate.find() ? "The body is not valid JSON: it gives the field '" + duplicate.group(1)
                + "' twice." : "The body is not valid JSON.";
    }
}

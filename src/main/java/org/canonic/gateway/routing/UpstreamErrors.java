package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.relay.OpenAiError;

import java.util.Locale;

/**
 * Reads the error bodies backends send (vLLM's current {@code {"error":{...}}}, its older
 * {@code {"object":"error","message":...}}, or anything else) into one OpenAI-shaped error.
 */
final class UpstreamErrors {

    private static final int MAX_MESSAGE = 2_000;
    /** Larger error bodies and events are not parsed (their message is replaced by a generic one). */
    private static final int MAX_PARSED_ERROR = 64 * 1024;

    private UpstreamErrors() {
    }

    /** A request fault relayed to the client with the backend's status and message. */
    static OpenAiError rejected(int status, Buffer body, ObjectMapper mapper) {
        String message = messageOf(body, mapper);
        if (message == null) {
            message = "The backend rejected the request (HTTP " + status + ").";
        }
        if (isContextOverflow(message)) {
            return OpenAiError.invalidRequest(400, message, "messages", "context_length_exceeded");
        }
        return OpenAiError.invalidRequest(status, message, null, null);
    }

    /** The message of an in-stream error payload, or a generic one. */
    static String streamErrorMessage(Buffer payload, ObjectMapper mapper) {
        String message = messageOf(payload, mapper);
        return message == null ? "The backend reported an error mid-stream." : message;
    }

    /** vLLM words context overflow differently across versions; all of them mention the context length. */
    static boolean isContextOverflow(String message) {
        String lower = message.toLowerCase(Locale.ROOT);
        return lower.contains("maximum context length") || lower.contains("context length");
    }

    private static String messageOf(Buffer body, ObjectMapper mapper) {
        if (body == null || body.length() == 0 || body.length() > MAX_PARSED_ERROR) {
            // An in-stream error event may be up to 1 MB: one that large is not parsed on the event loop.
            return null;
        }
        try {
            JsonNode root = mapper.readTree(body.getBytes());
            JsonNode error = root.path("error");
            JsonNode message = error.isObject() ? error.path("message") : root.path("message");
            if (message.isTextual()) {
                return bounded(message.asText());
            }
            if (error.isTextual()) {
                return bounded(error.asText());
            }
        } catch (Exception notJson) {
            // Not JSON (an HTML error page from a proxy, say): fall through to the generic message.
        }
        return null;
    }

    private static String bounded(String message) {
        return message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) + "..." : message;
    }
}

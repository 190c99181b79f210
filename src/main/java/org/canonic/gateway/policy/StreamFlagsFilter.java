package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads {@code stream} and {@code stream_options}. {@code stream_options} without {@code stream: true} is refused,
 * as vLLM would refuse it, but before it costs a round trip. Usage is reported to the client only when it asked
 * with {@code include_usage: true} (OpenAI's meaning); the gateway asks upstream for it regardless.
 */
final class StreamFlagsFilter implements PolicyFilter {

    @Override
    public void check(PolicyContext request) {
        JsonNode stream = request.body().get("stream");
        if (stream != null && !stream.isNull() && !stream.isBoolean()) {
            throw Refusal.badRequest("'stream' must be a boolean.", "stream", "invalid_type");
        }
        request.stream = stream != null && stream.asBoolean(false);
        JsonNode options = request.body().get("stream_options");
        if (options == null || options.isNull()) {
            request.clientWantsUsage = false;
            return;
        }
        if (!request.stream) {
            throw Refusal.badRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options",
                    "invalid_value");
        }
        if (!options.isObject()) {
            throw Refusal.badRequest("'stream_options' must be an object.", "stream_options", "invalid_type");
        }
        JsonNode includeUsage = options.get("include_usage");
        if (includeUsage != null && !includeUsage.isNull() && !includeUsage.isBoolean()) {
            throw Refusal.badRequest("'stream_options.include_usage' must be a boolean.",
                    "stream_options.include_usage", "invalid_type");
        }
        request.clientWantsUsage = includeUsage != null && includeUsage.asBoolean(false);
    }
}

package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;

/**
 * A prompt's size in tokens, bounded from both sides without a tokenizer.
 *
 * <p>Measured in UTF-8 bytes of the text a chat template would render (message contents, tool calls, tool schemas,
 * field names). The bounds are wide on purpose, since they decide when the gateway trusts the estimate alone:
 * <ul>
 *   <li>upper = bytes / 2.5 + 8 per message: BPE tokenizers of the served models (Qwen2.5, DeepSeek) average ~4 bytes
 *       per token on English, ~3 on code and JSON schemas and ~2.5-3 on CJK (3 bytes a character, about one token
 *       each); dividing by 2.5 over-counts all of them. The 8 per message cover role markers of chat templates.</li>
 *   <li>lower = bytes / 10: even long identifiers and runs of indentation rarely pack more than 10 bytes in a token.</li>
 * </ul>
 * A window decision that holds for the whole range needs no exact count; anything in between asks the backend.
 * Token-id prompts are counted exactly.
 */
record PromptSize(int lower, int upper, boolean exact) {

    static final double UPPER_BYTES_PER_TOKEN = 2.5;
    static final double LOWER_BYTES_PER_TOKEN = 10;
    static final int TOKENS_PER_MESSAGE = 8;

    static PromptSize exactly(int tokens) {
        return new PromptSize(tokens, tokens, true);
    }

    static PromptSize measure(ObjectNode body, Endpoint endpoint) {
        if (endpoint == Endpoint.COMPLETIONS) {
            JsonNode prompt = body.get("prompt");
            if (prompt != null && prompt.isArray() && prompt.size() > 0 && prompt.get(0).isIntegralNumber()) {
                return exactly(prompt.size());
            }
            return fromBytes(textBytes(prompt), 1);
        }
        JsonNode messages = body.path("messages");
        long bytes = textBytes(messages) + textBytes(body.get("tools"));
        return fromBytes(bytes, messages.size());
    }

    private static PromptSize fromBytes(long bytes, int messages) {
        long upper = (long) Math.ceil(bytes / UPPER_BYTES_PER_TOKEN) + (long) TOKENS_PER_MESSAGE * messages;
        long lower = (long) Math.floor(bytes / LOWER_BYTES_PER_TOKEN);
        return new PromptSize(saturate(lower), saturate(upper), false);
    }

    /** UTF-8 bytes of every string and field name under {@code node}. */
    static long textBytes(JsonNode node) {
        if (node == null || node.isNull()) {
            return 0;
        }
        if (node.isTextual()) {
            return node.asText().getBytes(StandardCharsets.UTF_8).length;
        }
        if (node.isValueNode()) {
            return node.asText().length();
        }
        long total = 0;
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                total += field.getKey().length() + textBytes(field.getValue());
            }
        } else {
            for (JsonNode element : node) {
                total += textBytes(element);
            }
        }
        return total;
    }

    private static int saturate(long value) {
        return (int) Math.min(Integer.MAX_VALUE, value);
    }
}

package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Renders a request to the text a Qwen model would see, ChatML as in Qwen2.5's chat template: the tools' JSON in a
 * first system block, every message as {@code <|im_start|>role\ncontent<|im_end|>\n}, then the generation prompt.
 * Everything the simulator counts (prompt tokens, KV blocks, prefix hashes) is measured on this text, so two requests
 * share a cached prefix exactly when their renderings share it, as on a real vLLM.
 */
final class ChatTemplate {

    static final String GENERATION_PROMPT = "<|im_start|>assistant\n";

    private ChatTemplate() {
    }

    /** A chat request's rendering, or a completion request's prompt as it is. */
    static String render(JsonNode request, boolean chat) {
        if (!chat) {
            JsonNode prompt = request.path("prompt");
            return prompt.isTextual() ? prompt.asText() : prompt.isMissingNode() ? "" : prompt.toString();
        }
        StringBuilder text = new StringBuilder();
        JsonNode tools = request.path("tools");
        if (tools.isArray() && !tools.isEmpty()) {
            block(text, "system", tools.toString());
        }
        for (JsonNode message : request.path("messages")) {
            String content = content(message.path("content"));
            JsonNode toolCalls = message.path("tool_calls");
            if (toolCalls.isArray() && !toolCalls.isEmpty()) {
                content += toolCalls.toString();
            }
            block(text, message.path("role").asText(""), content);
        }
        return text.append(GENERATION_PROMPT).toString();
    }

    /** A message's content: a string, or the text of its parts one after the other. */
    static String content(JsonNode content) {
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder parts = new StringBuilder();
            content.forEach(part -> parts.append(part.path("text").asText("")));
            return parts.toString();
        }
        return content.isMissingNode() || content.isNull() ? "" : content.toString();
    }

    private static void block(StringBuilder text, String role, String content) {
        text.append("<|im_start|>").append(role).append('\n').append(content).append("<|im_end|>\n");
    }
}

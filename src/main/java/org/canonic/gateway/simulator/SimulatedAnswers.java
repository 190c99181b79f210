package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/** Canned answers with vLLM's token arithmetic: prompt size estimated, context window enforced, limits honoured. */
final class SimulatedAnswers {

    /** An answer: its tokens (words with their leading space), why it stopped, and the usage it reports. */
    record Answer(List<String> tokens, String finishReason, int promptTokens) {

        int completionTokens() {
            return tokens.size();
        }

        ObjectNode toCompletion(ObjectMapper mapper, String model, boolean chat) {
            String text = String.join("", tokens);
            ObjectNode body = mapper.createObjectNode()
                    .put("id", (chat ? "chatcmpl-sim-" : "cmpl-sim-") + System.nanoTime())
                    .put("object", chat ? "chat.completion" : "text_completion")
                    .put("created", System.currentTimeMillis() / 1000)
                    .put("model", model);
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            if (chat) {
                choice.putObject("message").put("role", "assistant").put("content", text);
            } else {
                choice.put("text", text);
            }
            choice.putNull("logprobs").put("finish_reason", finishReason).putNull("stop_reason");
            body.set("usage", usage(mapper));
            return body;
        }

        ObjectNode usage(ObjectMapper mapper) {
            return mapper.createObjectNode().put("prompt_tokens", promptTokens)
                    .put("completion_tokens", completionTokens())
                    .put("total_tokens", promptTokens + completionTokens());
        }
    }

    private final int maxModelLen;

    SimulatedAnswers(int maxModelLen) {
        this.maxModelLen = maxModelLen;
    }

    /** About four characters per token, like the real tokenizers on English text and code. */
    int promptTokens(JsonNode request) {
        return Math.max(1, text(request).length() / 4);
    }

    Answer answer(JsonNode request, boolean chat) {
        int prompt = promptTokens(request);
        JsonNode limitNode = request.has("max_completion_tokens") ? request.get("max_completion_tokens")
                : request.get("max_tokens");
        int limit = limitNode != null && limitNode.canConvertToInt() ? limitNode.asInt() : maxModelLen - prompt;
        if (prompt + limit > maxModelLen) {
            throw new IllegalArgumentException("This model's maximum context length is " + maxModelLen
                    + " tokens. However, you requested " + (prompt + limit) + " tokens (" + prompt
                    + " in the messages, " + limit + " in the completion). Please reduce the length of the messages"
                    + " or completion.");
        }
        String said = lastUserText(request, chat);
        String reply = "Hello from the magic-gateway simulator, standing in for a vLLM backend. You said: \""
                + (said.length() > 120 ? said.substring(0, 120) + "..." : said)
                + "\". Point the gateway at a real backend (see the README) for real answers.";
        List<String> tokens = new ArrayList<>();
        String[] words = reply.split(" ");
        for (int i = 0; i < words.length; i++) {
            tokens.add(i == 0 ? words[i] : " " + words[i]);
        }
        if (tokens.size() > limit) {
            return new Answer(List.copyOf(tokens.subList(0, Math.max(0, limit))), "length", prompt);
        }
        return new Answer(tokens, "stop", prompt);
    }

    private static String text(JsonNode request) {
        if (request.has("prompt")) {
            return request.get("prompt").isTextual() ? request.get("prompt").asText() : request.get("prompt").toString();
        }
        return request.path("messages").toString();
    }

    private static String lastUserText(JsonNode request, boolean chat) {
        if (!chat) {
            return request.path("prompt").asText("");
        }
        String last = "";
        for (JsonNode message : request.path("messages")) {
            if ("user".equals(message.path("role").asText())) {
                JsonNode content = message.path("content");
                if (content.isTextual()) {
                    last = content.asText();
                } else if (content.isArray()) {
                    StringBuilder parts = new StringBuilder();
                    content.forEach(part -> parts.append(part.path("text").asText("")));
                    last = parts.toString();
                }
            }
        }
        return last;
    }
}

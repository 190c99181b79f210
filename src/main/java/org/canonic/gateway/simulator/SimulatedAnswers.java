package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.OptionalInt;

/**
 * Canned answers with vLLM's token arithmetic: the prompt measured on its rendering, the context window enforced,
 * {@code max_completion_tokens} over {@code max_tokens}, and vLLM's {@code ignore_eos} to generate exactly the limit.
 */
final class SimulatedAnswers {

    /** An answer to one request: its rendered prompt, the text it generates and why that text stops there. */
    record Answer(String prompt, String text, String finishReason, int promptTokens) {

        int completionTokens() {
            return (text.length() + SequenceText.CHARS_PER_TOKEN - 1) / SequenceText.CHARS_PER_TOKEN;
        }

        /** The text of one generated token: four characters of the answer (the last may be shorter). */
        String token(int index) {
            int from = index * SequenceText.CHARS_PER_TOKEN;
            return text.substring(from, Math.min(from + SequenceText.CHARS_PER_TOKEN, text.length()));
        }

        ObjectNode toCompletion(ObjectMapper mapper, String model, boolean chat) {
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

    /** What {@code /tokenize} counts: the same rendering as a completion's prompt. */
    static int promptTokens(JsonNode request) {
        return SequenceText.tokens(ChatTemplate.render(request, request.has("messages")));
    }

    Answer answer(JsonNode request, boolean chat) {
        String prompt = ChatTemplate.render(request, chat);
        int promptTokens = SequenceText.tokens(prompt);
        int limit = limit(request).orElse(maxModelLen - promptTokens);
        if (promptTokens + limit > maxModelLen) {
            throw new IllegalArgumentException("This model's maximum context length is " + maxModelLen
                    + " tokens. However, you requested " + (promptTokens + limit) + " tokens (" + promptTokens
                    + " in the messages, " + limit + " in the completion). Please reduce the length of the messages"
                    + " or completion.");
        }
        int limitChars = Math.max(0, limit) * SequenceText.CHARS_PER_TOKEN;
        String reply = reply(request, chat);
        if (request.path("ignore_eos").asBoolean(false)) {
            StringBuilder text = new StringBuilder(reply);
            while (text.length() < limitChars) {
                text.append(' ').append(reply);
            }
            return new Answer(prompt, text.substring(0, limitChars), "length", promptTokens);
        }
        if (reply.length() > limitChars) {
            return new Answer(prompt, reply.substring(0, limitChars), "length", promptTokens);
        }
        return new Answer(prompt, reply, "stop", promptTokens);
    }

    /** vLLM's precedence: {@code max_completion_tokens} when set, else {@code max_tokens}, else the window's rest. */
    private static OptionalInt limit(JsonNode request) {
        for (String field : new String[]{"max_completion_tokens", "max_tokens"}) {
            JsonNode value = request.path(field);
            if (value.canConvertToInt() && value.isIntegralNumber()) {
                return OptionalInt.of(value.asInt());
            }
        }
        return OptionalInt.empty();
    }

    private static String reply(JsonNode request, boolean chat) {
        String said = chat ? lastUserText(request) : request.path("prompt").asText("");
        return "Hello from the magic-gateway simulator, standing in for a vLLM backend. You said: \""
                + (said.length() > 120 ? said.substring(0, 120) + "..." : said)
                + "\". Point the gateway at a real backend (see the README) for real answers.";
    }

    private static String lastUserText(JsonNode request) {
        String last = "";
        for (JsonNode message : request.path("messages")) {
            if ("user".equals(message.path("role").asText())) {
                last = ChatTemplate.content(message.path("content"));
            }
        }
        return last;
    }
}

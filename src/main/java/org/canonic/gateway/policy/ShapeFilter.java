package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Set;

/**
 * The shape of a completion request: what OpenAI clients send and vLLM accepts, checked before a GPU sees it.
 * Fields the gateway does not know pass through; fields it knows must have the right type and a sane range.
 */
final class ShapeFilter implements PolicyFilter {

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool", "function");
    private static final int MAX_N = 16;
    private static final int MAX_STOP_SEQUENCES = 16;

    /** A numeric field and its accepted range; {@code integer} fields refuse fractions. */
    private record Range(String field, double min, double max, boolean integer) {
    }

    private static final Range[] RANGES = {
            new Range("temperature", 0, 2, false),
            new Range("top_p", 0, 1, false),
            new Range("frequency_penalty", -2, 2, false),
            new Range("presence_penalty", -2, 2, false),
            new Range("repetition_penalty", 0, 10, false),
            new Range("min_p", 0, 1, false),
            new Range("top_k", -1, 1_000_000, true),
            new Range("n", 1, MAX_N, true),
            new Range("best_of", 1, MAX_N, true),
            new Range("max_tokens", 1, Integer.MAX_VALUE, true),
            new Range("max_completion_tokens", 1, Integer.MAX_VALUE, true),
            new Range("min_tokens", 0, Integer.MAX_VALUE, true),
            new Range("top_logprobs", 0, 20, true),
            new Range("seed", Long.MIN_VALUE, Long.MAX_VALUE, true),
    };

    @Override
    public void check(PolicyContext request) {
        ObjectNode body = request.body();
        if (request.endpoint() == Endpoint.CHAT_COMPLETIONS) {
            checkMessages(body.get("messages"));
            checkTools(body);
        } else {
            checkPrompt(body.get("prompt"));
        }
        for (Range range : RANGES) {
            checkRange(body, range);
        }
        checkStop(body.get("stop"));
        checkBoolean(body, "logprobs");
        checkBoolean(body, "parallel_tool_calls");
        checkBoolean(body, "echo");
    }

    private static void checkMessages(JsonNode messages) {
        if (messages == null || messages.isNull()) {
            throw Refusal.badRequest("'messages' is required.", "messages", "missing_required_parameter");
        }
        if (!messages.isArray() || messages.isEmpty()) {
            throw Refusal.badRequest("'messages' must be a non-empty array.", "messages", "invalid_value");
        }
        for (int i = 0; i < messages.size(); i++) {
            checkMessage(messages.get(i), "messages[" + i + "]");
        }
    }

    private static void checkMessage(JsonNode message, String where) {
        if (!message.isObject()) {
            throw Refusal.badRequest("'" + where + "' must be an object.", where, "invalid_type");
        }
        JsonNode role = message.get("role");
        if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
            throw Refusal.badRequest("'" + where + ".role' must be one of " + String.join(", ", ROLES.stream()
                    .sorted().toList()) + ".", where + ".role", "invalid_value");
        }
        JsonNode content = message.get("content");
        if (content == null || content.isNull()) {
            // An assistant turn may carry only tool calls; every other role needs content.
            if (!role.asText().equals("assistant")) {
                throw Refusal.badRequest("'" + where + ".content' is required for role " + role.asText() + ".",
                        where + ".content", "missing_required_parameter");
            }
            return;
        }
        if (content.isTextual()) {
            return;
        }
        if (!content.isArray()) {
            throw Refusal.badRequest("'" + where + ".content' must be a string or an array of content parts.",
                    where + ".content", "invalid_type");
        }
        for (int p = 0; p < content.size(); p++) {
            JsonNode part = content.get(p);
            String partWhere = where + ".content[" + p + "]";
            if (!part.isObject() || !part.path("type").isTextual()) {
                throw Refusal.badRequest("'" + partWhere + "' must be an object with a 'type'.", partWhere,
                        "invalid_type");
            }
            if (part.get("type").asText().equals("text") && !part.path("text").isTextual()) {
                throw Refusal.badRequest("'" + partWhere + ".text' must be a string.", partWhere + ".text",
                        "invalid_type");
            }
        }
    }

    private static void checkTools(ObjectNode body) {
        JsonNode tools = body.get("tools");
        if (tools == null || tools.isNull()) {
            return;
        }
        if (!tools.isArray() || tools.isEmpty()) {
            throw Refusal.badRequest("'tools' must be a non-empty array when present.", "tools", "invalid_value");
        }
        for (int i = 0; i < tools.size(); i++) {
            JsonNode tool = tools.get(i);
            if (!tool.isObject() || !"function".equals(tool.path("type").asText())
                    || !tool.path("function").path("name").isTextual()) {
                throw Refusal.badRequest("'tools[" + i + "]' must be {\"type\":\"function\",\"function\":{\"name\":...}}.",
                        "tools[" + i + "]", "invalid_value");
            }
        }
        JsonNode choice = body.get("tool_choice");
        if (choice != null && !choice.isNull() && !choice.isTextual() && !choice.isObject()) {
            throw Refusal.badRequest("'tool_choice' must be a string or an object.", "tool_choice", "invalid_type");
        }
    }

    private static void checkPrompt(JsonNode prompt) {
        if (prompt == null || prompt.isNull()) {
            throw Refusal.badRequest("'prompt' is required.", "prompt", "missing_required_parameter");
        }
        if (prompt.isTextual()) {
            return;
        }
        if (!prompt.isArray() || prompt.isEmpty()) {
            throw Refusal.badRequest("'prompt' must be a string, an array of strings or an array of token ids.",
                    "prompt", "invalid_type");
        }
        for (JsonNode element : prompt) {
            boolean tokenList = element.isArray() && allTokenIds(element);
            if (!element.isTextual() && !isTokenId(element) && !tokenList) {
                throw Refusal.badRequest("'prompt' must be a string, an array of strings or an array of token ids.",
                        "prompt", "invalid_type");
            }
        }
    }

    private static boolean allTokenIds(JsonNode array) {
        for (JsonNode element : array) {
            if (!isTokenId(element)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isTokenId(JsonNode node) {
        return node.isIntegralNumber() && node.canConvertToInt() && node.asInt() >= 0;
    }

    private static void checkRange(ObjectNode body, Range range) {
        JsonNode value = body.get(range.field());
        if (value == null || value.isNull()) {
            return;
        }
        if (!value.isNumber() || (range.integer() && !(value.isIntegralNumber() || isWholeDecimal(value)))) {
            throw Refusal.badRequest("'" + range.field() + "' must be " + (range.integer() ? "an integer" : "a number")
                    + ".", range.field(), "invalid_type");
        }
        double number = value.asDouble();
        boolean outOfRange = range.integer()
                ? value.bigIntegerValue().compareTo(java.math.BigInteger.valueOf((long) range.min())) < 0
                || value.bigIntegerValue().compareTo(java.math.BigInteger.valueOf((long) range.max())) > 0
                : Double.isNaN(number) || number < range.min() || number > range.max();
        if (outOfRange) {
            throw Refusal.badRequest("'" + range.field() + "' must be between " + format(range.min()) + " and "
                    + format(range.max()) + ".", range.field(), "invalid_value");
        }
    }

    private static boolean isWholeDecimal(JsonNode value) {
        try {
            value.decimalValue().toBigIntegerExact();
            return true;
        } catch (ArithmeticException e) {
            return false;
        }
    }

    private static void checkStop(JsonNode stop) {
        if (stop == null || stop.isNull() || stop.isTextual()) {
            return;
        }
        if (!stop.isArray() || stop.size() > MAX_STOP_SEQUENCES) {
            throw Refusal.badRequest("'stop' must be a string or an array of at most " + MAX_STOP_SEQUENCES
                    + " strings.", "stop", "invalid_value");
        }
        for (JsonNode element : stop) {
            if (!element.isTextual()) {
                throw Refusal.badRequest("'stop' must hold only strings.", "stop", "invalid_type");
            }
        }
    }

    private static void checkBoolean(ObjectNode body, String field) {
        JsonNode value = body.get(field);
        if (value != null && !value.isNull() && !value.isBoolean()) {
            throw Refusal.badRequest("'" + field + "' must be a boolean.", field, "invalid_type");
        }
    }

    private static String format(double bound) {
        return bound == Math.rint(bound) && Math.abs(bound) < 1e15 ? Long.toString((long) bound) : Double.toString(bound);
    }
}

package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;

/**
 * Streams an answer the way vLLM does: a role chunk, one chunk per token at a steady pace, a chunk with the finish
 * reason, the usage chunk when asked, then {@code data: [DONE]}. Stops as soon as the client goes away.
 */
final class SimulatedStream {

    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final HttpServerResponse response;
    private final String model;
    private final SimulatedAnswers.Answer answer;
    private final boolean chat;
    private final boolean includeUsage;
    private final long intervalMs;
    private final String id = "chatcmpl-sim-" + System.nanoTime();
    private int next;
    private boolean gone;

    SimulatedStream(Vertx vertx, ObjectMapper mapper, HttpServerResponse response, String model,
                    SimulatedAnswers.Answer answer, boolean chat, boolean includeUsage, long intervalMs) {
        this.vertx = vertx;
        this.mapper = mapper;
        this.response = response;
        this.model = model;
        this.answer = answer;
        this.chat = chat;
        this.includeUsage = includeUsage;
        this.intervalMs = intervalMs;
    }

    void start() {
        response.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
        response.closeHandler(v -> gone = true);
        if (chat) {
            send(chunk("", true, null));
        }
        vertx.setTimer(Math.max(1, intervalMs), id -> tick());
    }

    private void tick() {
        if (gone) {
            return;
        }
        if (next < answer.tokens().size()) {
            send(chunk(answer.tokens().get(next++), false, null));
            vertx.setTimer(Math.max(1, intervalMs), id -> tick());
            return;
        }
        send(chunk("", false, answer.finishReason()));
        if (includeUsage) {
            ObjectNode usage = base();
            usage.putArray("choices");
            usage.set("usage", answer.usage(mapper));
            send(usage);
        }
        response.end("data: [DONE]\n\n");
    }

    private ObjectNode chunk(String text, boolean role, String finishReason) {
        ObjectNode chunk = base();
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (role) {
                delta.put("role", "assistant");
            }
            delta.put("content", text);
        } else {
            choice.put("text", text);
        }
        choice.putNull("logprobs");
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason).putNull("stop_reason");
        }
        return chunk;
    }

    private ObjectNode base() {
        return mapper.createObjectNode().put("id", id)
                .put("object", chat ? "chat.completion.chunk" : "text_completion")
                .put("created", System.currentTimeMillis() / 1000).put("model", model);
    }

    private void send(ObjectNode chunk) {
        if (!gone) {
            response.write("data: " + chunk + "\n\n");
        }
    }
}

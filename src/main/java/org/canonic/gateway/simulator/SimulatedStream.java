package org.canonic.gateway.simulator;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.http.HttpServerResponse;

/**
 * Streams an answer the way vLLM does: the 200 head as soon as the request is accepted, then, once the engine samples
 * the first token, a role chunk (chat only) and that token's chunk, one chunk per later token, a chunk with the finish
 * reason, the usage chunk when asked, and {@code data: [DONE]}. Each SSE event is its own write, as vLLM sends them.
 * Tokens arrive on the engine's thread and are written on the response's own context.
 */
final class SimulatedStream implements TokenSink {

    private final Context context;
    private final ObjectMapper mapper;
    private final HttpServerResponse response;
    private final String model;
    private final SimulatedAnswers.Answer answer;
    private final boolean chat;
    private final boolean includeUsage;
    private final String id = "chatcmpl-sim-" + System.nanoTime();
    private final long created = System.currentTimeMillis() / 1000;
    /** A token's event is this, the token as a JSON string, and {@link #tokenEventEnd}: a tree per token costs more. */
    private final String tokenEventStart;
    private final String tokenEventEnd;
    private boolean roleSent;

    SimulatedStream(Context context, ObjectMapper mapper, HttpServerResponse response, String model,
                    SimulatedAnswers.Answer answer, boolean chat, boolean includeUsage) {
        this.context = context;
        this.mapper = mapper;
        this.response = response;
        this.model = model;
        this.answer = answer;
        this.chat = chat;
        this.includeUsage = includeUsage;
        String head = base().toString();
        this.tokenEventStart = "data: " + head.substring(0, head.length() - 1)
                + (chat ? ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" : ",\"choices\":[{\"index\":0,\"text\":\"");
        this.tokenEventEnd = chat ? "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
                : "\",\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    }

    /** Sends the head now: vLLM does before prefill, so the first {@code data:} event is the only first-token signal. */
    void open() {
        response.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
        response.writeHead();
    }

    @Override
    public void emit(int token, boolean finished) {
        context.runOnContext(v -> deliver(token, finished));
    }

    private void deliver(int token, boolean finished) {
        if (response.closed() || response.ended()) {
            return;
        }
        if (chat && !roleSent) {
            roleSent = true;
            send(chunk(true, null));
        }
        if (token >= 0) {
            response.write(tokenEventStart + new String(JsonStringEncoder.getInstance().quoteAsString(answer.token(token)))
                    + tokenEventEnd);
        }
        if (finished) {
            send(chunk(false, answer.finishReason()));
            if (includeUsage) {
                ObjectNode usage = base();
                usage.putArray("choices");
                usage.set("usage", answer.usage(mapper));
                send(usage);
            }
            response.end("data: [DONE]\n\n");
        }
    }

    private ObjectNode chunk(boolean role, String finishReason) {
        ObjectNode chunk = base();
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (role) {
                delta.put("role", "assistant");
            }
            delta.put("content", "");
        } else {
            choice.put("text", "");
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
                .put("created", created).put("model", model);
    }

    private void send(ObjectNode chunk) {
        response.write("data: " + chunk + "\n\n");
    }
}

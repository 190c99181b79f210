package org.canonic.gateway.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/** Writes one scripted vLLM-style SSE stream: role chunk, content chunks, finish chunk, usage chunk, [DONE]. */
final class FakeStream {

    static final String ID = "chatcmpl-fake";

    private final Vertx vertx;
    private final HttpServerRequest request;
    private final HttpServerResponse response;
    private final Behavior behavior;
    private final String model;
    private final boolean includeUsage;
    private int sent;

    FakeStream(Vertx vertx, HttpServerRequest request, HttpServerResponse response, Behavior behavior, String model,
               String requestBody) {
        this.vertx = vertx;
        this.request = request;
        this.response = response;
        this.behavior = behavior;
        this.model = model;
        this.includeUsage = requestBody.contains("\"include_usage\":true");
    }

    static String contentChunk(String model, String content, String deltaExtra) {
        return "data: {\"id\":\"" + ID + "\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
                + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\""
                + (deltaExtra == null ? "" : "," + deltaExtra)
                + "},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    }

    /** The non-stream answer with the same content: "tok0tok1..." and usage. */
    static String completion(String model, int tokens) {
        StringBuilder content = new StringBuilder();
        for (int i = 0; i < tokens; i++) {
            content.append("tok").append(i);
        }
        return "{\"id\":\"" + ID + "\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"" + model
                + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content
                + "\"},\"logprobs\":null,\"finish_reason\":\"stop\",\"stop_reason\":null}],\"usage\":{"
                + "\"prompt_tokens\":11,\"completion_tokens\":" + tokens + ",\"total_tokens\":" + (11 + tokens) + "}}";
    }

    void start() {
        response.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
        // vLLM sends its headers before prefill ends: the status line proves nothing.
        response.write("");
        vertx.setTimer(Math.max(1, behavior.firstTokenDelayMs), id -> {
            if (response.closed()) {
                return;
            }
            response.write("data: {\"id\":\"" + ID + "\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\""
                    + model + "\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                    + "\"logprobs\":null,\"finish_reason\":null}]}\n\n");
            next();
        });
    }

    private void next() {
        if (response.closed()) {
            return;
        }
        if (sent == behavior.dropAfterTokens) {
            request.connection().close();
            return;
        }
        if (sent == behavior.stallAfterTokens) {
            return;
        }
        if (sent == behavior.errorAfterTokens) {
            response.write("data: {\"error\":{\"message\":\"engine died\",\"type\":\"InternalServerError\","
                    + "\"param\":null,\"code\":500}}\n\n");
            response.end("data: [DONE]\n\n");
            return;
        }
        if (sent < behavior.tokens) {
            response.write(contentChunk(model, "tok" + sent, behavior.deltaExtra));
            sent++;
            if (behavior.tokenDelayMs > 0) {
                vertx.setTimer(behavior.tokenDelayMs, id -> next());
            } else {
                next();
            }
            return;
        }
        response.write("data: {\"id\":\"" + ID + "\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\""
                + model + "\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"logprobs\":null,"
                + "\"finish_reason\":\"stop\",\"stop_reason\":null}]}\n\n");
        if (includeUsage) {
            response.write("data: {\"id\":\"" + ID + "\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                    + "\"model\":\"" + model + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,"
                    + "\"completion_tokens\":" + behavior.tokens + ",\"total_tokens\":" + (11 + behavior.tokens)
                    + "}}\n\n");
        }
        if (behavior.omitDone) {
            response.end();
        } else {
            response.end("data: [DONE]\n\n");
        }
    }
}

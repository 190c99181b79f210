package org.canonic.gateway.backend;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.io.IOException;

/**
 * Exact prompt token counts from a vLLM backend's {@code POST /tokenize}: it applies the model's own chat template,
 * so its count is what the backend will check against its window. Costs CPU on the backend, no GPU time. Any failure
 * (a backend without {@code /tokenize}, a timeout) fails the future; callers fall back to their estimate.
 */
public final class Tokenizer {

    /** The largest {@code /tokenize} answer read: a 2 MiB prompt's token list is about 3.5 MB. */
    static final int MAX_ANSWER_BYTES = 4 * 1024 * 1024;
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build();

    private final Vertx vertx;
    private final long timeoutMs;

    public Tokenizer(Vertx vertx, long timeoutMs) {
        this.vertx = vertx;
        this.timeoutMs = timeoutMs;
    }

    /** Counts the tokens of {@code tokenizeBody} ({@code {"model","messages","tools",...}} or {@code {"model","prompt"}}). */
    public Future<Integer> count(Backend backend, HttpClient client, Buffer tokenizeBody) {
        Promise<Integer> promise = Promise.promise();
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(backend.endpoint().rootPath("/tokenize"))
                .setConnectTimeout(Math.min(timeoutMs, backend.clocks().connectMs()))
                .setIdleTimeout(timeoutMs)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        backend.authorization().ifPresent(value -> options.putHeader(HttpHeaders.AUTHORIZATION, value));
        long timer = vertx.setTimer(timeoutMs, id -> promise.tryFail("tokenize timed out"));
        client.request(options)
                .compose(request -> request.send(tokenizeBody))
                .compose(response -> response.statusCode() == 200
                        ? bounded(response)
                        : Future.failedFuture("tokenize answered " + response.statusCode()))
                .onComplete(result -> {
                    vertx.cancelTimer(timer);
                    if (result.failed()) {
                        promise.tryFail(result.cause());
                        return;
                    }
                    int count = countOf(result.result());
                    if (count < 0) {
                        promise.tryFail("tokenize answered without a count");
                    } else {
                        promise.tryComplete(count);
                    }
                });
        return promise.future();
    }

    /**
     * The answer's bytes, at most {@link #MAX_ANSWER_BYTES}: a larger one fails (and its connection is reset) rather
     * than being held and parsed on the event loop. vLLM's answer lists every token id: about 7 bytes per token.
     */
    private static Future<Buffer> bounded(HttpClientResponse response) {
        Promise<Buffer> read = Promise.promise();
        Buffer body = Buffer.buffer();
        response.handler(chunk -> {
            if (read.future().isComplete()) {
                return;
            }
            if (body.length() + chunk.length() > MAX_ANSWER_BYTES) {
                read.tryFail("tokenize answered more than " + MAX_ANSWER_BYTES + " bytes");
                response.request().reset();
                return;
            }
            body.appendBuffer(chunk);
        });
        response.exceptionHandler(read::tryFail);
        response.endHandler(v -> read.tryComplete(body));
        return read.future();
    }

    /**
     * The {@code count} member of a {@code /tokenize} answer, or -1. Read with a streaming parser that stops as soon as
     * it has it (vLLM writes it first, before the token list), so the list is never built, and skipped without a tree
     * when it comes first.
     */
    static int countOf(Buffer answer) {
        try (JsonParser parser = JSON.createParser(answer.getBytes())) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return -1;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals("count")) {
                    return value == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() == JsonParser.NumberType.INT
                            && parser.getIntValue() >= 0 ? parser.getIntValue() : -1;
                }
                parser.skipChildren();
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }
}

package org.canonic.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

/**
 * Exact prompt token counts from a vLLM backend's {@code POST /tokenize}: it applies the model's own chat template,
 * so its count is what the backend will check against its window. Costs CPU on the backend, no GPU time. Any failure
 * (a backend without {@code /tokenize}, a timeout) fails the future; callers fall back to their estimate.
 */
public final class Tokenizer {

    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final long timeoutMs;

    public Tokenizer(Vertx vertx, ObjectMapper mapper, long timeoutMs) {
        this.vertx = vertx;
        this.mapper = mapper;
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
                        ? response.body()
                        : Future.failedFuture("tokenize answered " + response.statusCode()))
                .onComplete(result -> {
                    vertx.cancelTimer(timer);
                    if (result.failed()) {
                        promise.tryFail(result.cause());
                        return;
                    }
                    try {
                        JsonNode count = mapper.readTree(result.result().getBytes()).get("count");
                        if (count == null || !count.canConvertToInt()) {
                            promise.tryFail("tokenize answered without a count");
                        } else {
                            promise.tryComplete(count.asInt());
                        }
                    } catch (Exception e) {
                        promise.tryFail(e);
                    }
                });
        return promise.future();
    }
}

package org.canonic.gateway.api;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.canonic.gateway.relay.OpenAiError;

import java.util.Map;

/**
 * An OpenAI-shaped refusal given before a request's body was read (a missing admin token, a body over a size
 * limit). The body is never read into memory: when one is still coming, the connection is closed once the answer is
 * written, and until then (at most {@link #LINGER_MS}) what the client sends is discarded, so that it gets to read the
 * refusal instead of a broken pipe.
 */
public final class EarlyRefusal {

    /** How long a refused client may go on sending (discarded) so that it reads the refusal. */
    static final long LINGER_MS = 2_000;

    private EarlyRefusal() {
    }

    /**
     * Answers {@code error} now. {@code retryAfterSeconds} above 0 adds {@code Retry-After}; {@code headers} are
     * added as they are.
     */
    public static void send(RoutingContext ctx, OpenAiError error, long retryAfterSeconds,
                            Map<String, String> headers) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(error.status());
        response.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        headers.forEach(response::putHeader);
        if (retryAfterSeconds > 0) {
            response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds));
        }
        if (!request.isEnded()) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
            Vertx vertx = ctx.vertx();
            long timer = vertx.setTimer(LINGER_MS, id -> request.connection().close());
            request.handler(discarded -> {
            });
            request.exceptionHandler(failed -> vertx.cancelTimer(timer));
            request.endHandler(v -> {
                vertx.cancelTimer(timer);
                request.connection().close();
            });
            request.resume();
        }
        response.end(error.toBuffer());
    }
}

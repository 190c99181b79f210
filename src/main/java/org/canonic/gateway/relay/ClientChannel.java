package org.canonic.gateway.relay;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import org.canonic.gateway.memory.BodyBudget;

/**
 * The client's side of one exchange: decides nothing, but knows how each kind of answer must be written.
 *
 * <p>Streams are sent as {@code text/event-stream} with {@code Cache-Control: no-cache, no-transform} and
 * {@code X-Accel-Buffering: no}, uncompressed, one write per upstream chunk: that is what makes a Cloudflare
 * Tunnel (and nginx, and browsers) flush each event instead of buffering.
 */
public final class ClientChannel {

    private static final Buffer KEEP_ALIVE = Buffer.buffer(": keep-alive\n\n");
    private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");
    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream; charset=utf-8");
    private static final CharSequence NO_CACHE = HttpHeaders.createOptimized("no-cache, no-transform");
    private static final CharSequence X_ACCEL_BUFFERING = HttpHeaders.createOptimized("x-accel-buffering");
    private static final CharSequence NO = HttpHeaders.createOptimized("no");

    private final HttpServerResponse response;
    private final String requestId;
    private boolean gone;
    private int maxTokens;
    private long lastWriteNanos = System.nanoTime();

    public ClientChannel(HttpServerResponse response, String requestId) {
        this.response = response;
        this.requestId = requestId;
    }

    /** Runs {@code onGone} once if the client disconnects before the answer is complete. */
    public void onClientGone(Runnable onGone) {
        response.closeHandler(v -> {
            if (!gone) {
                gone = true;
                onGone.run();
            }
        });
    }

    public boolean isGone() {
        return gone || response.closed();
    }

    /** True once the status line is out: from then on failures can only be reported in-band. */
    public boolean headersSent() {
        return response.headWritten();
    }

    public long lastWriteNanos() {
        return lastWriteNanos;
    }

    /** The completion limit sent upstream, reported in {@code x-gateway-max-tokens} when the head is written. */
    public void maxTokens(int maxTokens) {
        this.maxTokens = maxTokens;
    }

    /** Sends the 200 head of an SSE stream with the gateway's headers. */
    public void startStream(String provider, int attempts, long elapsedMs) {
        if (response.headWritten()) {
            return;
        }
        response.setStatusCode(200);
        response.putHeader(HttpHeaders.CONTENT_TYPE, EVENT_STREAM);
        response.putHeader(HttpHeaders.CACHE_CONTROL, NO_CACHE);
        response.putHeader(X_ACCEL_BUFFERING, NO);
        putGatewayHeaders(provider, attempts, elapsedMs);
        response.setChunked(true);
    }

    /** Writes relayed bytes. */
    public void write(Buffer bytes) {
        if (isGone()) {
            return;
        }
        lastWriteNanos = System.nanoTime();
        response.write(bytes);
    }

    /** Writes an SSE comment: keeps proxies from timing the stream out, carries no data, commits nothing. */
    public void keepAlive() {
        write(KEEP_ALIVE.copy());
    }

    /** Ends a stream normally with its last relayed bytes (null: none), which hold the upstream's own {@code [DONE]}. */
    public void endStream(Buffer last) {
        if (!isGone()) {
            if (last == null) {
                response.end();
            } else {
                lastWriteNanos = System.nanoTime();
                response.end(last);
            }
        }
    }

    /** Ends a stream whose status line is out with an OpenAI error event and {@code [DONE]}. */
    public void endStreamWithError(OpenAiError error) {
        if (isGone()) {
            return;
        }
        response.write(error.toEvent());
        response.end(DONE.copy());
    }

    /** Sends a complete JSON answer with its status; the future completes once it is written (or failed). */
    public Future<Void> sendJson(int status, Buffer body, String provider, int attempts, long elapsedMs) {
        if (isGone()) {
            return Future.succeededFuture();
        }
        response.setStatusCode(status);
        response.putHeader(HttpHeaders.CONTENT_TYPE, GatewayHeaders.APPLICATION_JSON);
        putGatewayHeaders(provider, attempts, elapsedMs);
        return response.end(body);
    }

    /**
     * Sends a complete answer whose bytes the body budget holds ({@code lease}, taken over here): they stay counted
     * until the socket has taken them, so an answer waiting for a client that does not read still counts against
     * the budget, and is given back when written or when the client leaves.
     */
    public void sendJson(int status, Buffer body, BodyBudget.Lease lease, String provider, int attempts,
                         long elapsedMs) {
        BodyBudget.Lease held = lease == null ? null : lease.handOver();
        Future<Void> written = sendJson(status, body, provider, attempts, elapsedMs);
        if (held != null) {
            written.onComplete(done -> held.release());
        }
    }

    /**
     * Reports a failure: with its own status while the status line can still be chosen, otherwise (a stream
     * whose head went out early) as an error event. 429 and 503 carry a {@code Retry-After} of one second. The
     * future completes once the answer is written.
     */
    public Future<Void> sendError(OpenAiError error, String provider, int attempts, long elapsedMs) {
        return sendError(error, provider, attempts, elapsedMs, 1);
    }

    /** As {@link #sendError(OpenAiError, String, int, long)}, with the {@code Retry-After} hint to use. */
    public Future<Void> sendError(OpenAiError error, String provider, int attempts, long elapsedMs,
                                  long retryAfterSeconds) {
        if (isGone()) {
            return Future.succeededFuture();
        }
        if (response.headWritten()) {
            endStreamWithError(error);
            return Future.succeededFuture();
        }
        if (error.status() == 429 || error.status() == 503) {
            response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(Math.max(1, retryAfterSeconds)));
        }
        return sendJson(error.status(), error.toBuffer(), provider, attempts, elapsedMs);
    }

    public boolean writeQueueFull() {
        return response.writeQueueFull();
    }

    /** Drops the client's connection at once (a client that stopped reading cannot be told anything else). */
    public void abort() {
        gone = true;
        response.reset();
    }

    public void onDrain(Runnable onDrain) {
        response.drainHandler(v -> onDrain.run());
    }

    private void putGatewayHeaders(String provider, int attempts, long elapsedMs) {
        response.putHeader(GatewayHeaders.Encoded.REQUEST_ID, requestId);
        response.putHeader(GatewayHeaders.Encoded.PROVIDER, provider);
        response.putHeader(GatewayHeaders.Encoded.ATTEMPTS, Integer.toString(attempts));
        response.putHeader(GatewayHeaders.Encoded.ELAPSED_MS, Long.toString(elapsedMs));
        if (maxTokens > 0) {
            response.putHeader(GatewayHeaders.Encoded.MAX_TOKENS, Integer.toString(maxTokens));
        }
    }
}

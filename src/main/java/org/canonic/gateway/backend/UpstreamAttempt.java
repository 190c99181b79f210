package org.canonic.gateway.backend;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import org.canonic.gateway.memory.BodyBudget;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP exchange with one backend, under the four clocks (connect, first token, idle, total).
 *
 * <p>Runs entirely on the Vert.x context it was started on, so it needs no locks. Stream events are handed to the
 * {@link Listener} as they arrive, without parsing; the attempt ends exactly once with a {@link Result}. Whenever it
 * ends early (a clock, a fault, {@link #cancel()}) the upstream request is reset, which closes the connection:
 * vLLM frees the GPU slot only when its connection closes.
 */
public final class UpstreamAttempt {

    /** What the attempt tells its owner. All calls happen on the owner's context. */
    public interface Listener {
        /** A whole SSE event arrived (stream only); {@code [start, end)} includes its delimiter. */
        void onEvent(Buffer buffer, int start, int end, SseEvents.Kind kind);

        /** All events of one upstream chunk were delivered: a good moment to flush a batch. */
        void onChunkEnd();

        /** The attempt is over. Called exactly once, never after {@link #cancel()}. */
        void onEnd(Result result);
    }

    /**
     * How the attempt ended. {@code status} is the upstream status (0 when none arrived); {@code body} holds a
     * non-stream body, an upstream error body or an in-stream error payload; {@code detail} is a short,
     * secret-free explanation; {@code json} is the {@link NonStreamAnswer#summarize summary} of a completed
     * non-stream answer (usage, finish reasons), never the whole answer; {@code bodyLease} is the budget a completed
     * non-stream body holds: valid during {@link Listener#onEnd}, released then unless taken over
     * ({@link BodyBudget.Lease#handOver()}) by whoever keeps the body longer.
     */
    public record Result(AttemptOutcome outcome, int status, Buffer body, String contentType, String detail,
                         long elapsedMs, ObjectNode json, BodyBudget.Lease bodyLease) {
    }

    private enum State { CONNECTING, WAITING, STREAMING, DONE }

    /** An SSE event longer than this without a delimiter means the upstream does not speak SSE. */
    private static final int MAX_PARTIAL_EVENT = 1 << 20;
    private static final int MAX_ERROR_BODY = 64 * 1024;
    /** After {@code [DONE]}, how long the upstream may take to finish the response before its socket is closed. */
    private static final long DRAIN_GRACE_MS = 5_000;

    private final Vertx vertx;
    private final HttpClient client;
    private final Backend backend;
    private final Clocks clocks;
    private final String path;
    private final MultiMap headers;
    private final Buffer body;
    private final boolean stream;
    private final long maxBodyBytes;
    private final BodyBudget budget;
    private final Listener listener;
    /** The body being collected (non-stream answers and error bodies), null otherwise. */
    private AnswerCollector collector;

    private State state = State.CONNECTING;
    private long startNanos;
    private boolean paused;
    private final AttemptClock clock;
    private HttpClientRequest request;
    private HttpClientResponse response;
    private final SseSplitter splitter = new SseSplitter(MAX_PARTIAL_EVENT);

    /**
     * @param clocks the attempt's four clocks: the backend's, or with a first-token clock sized for this prompt
     */
    public UpstreamAttempt(Vertx vertx, HttpClient client, Backend backend, Clocks clocks, String path,
                           MultiMap headers, Buffer body, boolean stream, long maxBodyBytes, BodyBudget budget,
                           Listener listener) {
        this.vertx = vertx;
        this.client = client;
        this.backend = backend;
        this.clocks = clocks;
        this.path = path;
        this.headers = headers;
        this.body = body;
        this.stream = stream;
        this.maxBodyBytes = maxBodyBytes;
        this.budget = budget;
        this.listener = listener;
        this.clock = new AttemptClock(vertx, clocks, stream, this::fail);
    }

    public Backend backend() {
        return backend;
    }

    /** Starts the exchange. The connect clock is enforced by the client; the total clock starts now. */
    public void start() {
        startNanos = System.nanoTime();
        clock.start(startNanos);
        RequestOptions options = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setURI(path)
                .setHeaders(headers)
                .setConnectTimeout(clocks.connectMs());
        client.request(options).onComplete(ar -> {
            if (state == State.DONE) {
                if (ar.succeeded()) {
                    // The client left while connecting: the reset is expected, not an error for Vert.x to log.
                    ar.result().exceptionHandler(expected -> { }).reset();
                }
                return;
            }
            if (ar.failed()) {
                onConnectFailure(ar.cause());
                return;
            }
            onConnected(ar.result());
        });
    }

    /** Stops the attempt because the client left: closes the upstream connection, reports nothing. */
    public void cancel() {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        cancelTimers();
        resetUpstream();
        releaseBody();
    }

    /** Stops reading upstream while the client cannot keep up; the idle clock is suspended meanwhile. */
    public void pause() {
        if (response != null && !paused && state != State.DONE) {
            paused = true;
            clock.paused(true);
            response.pause();
        }
    }

    public void resume() {
        if (response != null && paused) {
            paused = false;
            clock.paused(false);
            response.resume();
        }
    }

    private void onConnected(HttpClientRequest req) {
        request = req;
        state = State.WAITING;
        clock.firstToken();
        req.exceptionHandler(this::onTransportFailure);
        req.response().onComplete(ar -> {
            if (state == State.DONE) {
                return;
            }
            if (ar.failed()) {
                onTransportFailure(ar.cause());
                return;
            }
            onResponse(ar.result());
        });
        req.end(body);
    }

    private void onResponse(HttpClientResponse resp) {
        response = resp;
        resp.exceptionHandler(this::onTransportFailure);
        int status = resp.statusCode();
        String contentType = resp.getHeader(HttpHeaderNames.CONTENT_TYPE);
        if (status < 200 || status >= 300) {
            state = State.STREAMING;
            clock.idle();
            collectBody(resp, MAX_ERROR_BODY, buffer -> finish(AttemptOutcome.ofStatus(status), status, buffer,
                    contentType, "answered HTTP " + status, null));
            return;
        }
        if (!stream) {
            // vLLM sends a non-stream answer only once generation is over: the head is the "first token".
            state = State.STREAMING;
            clock.idle();
            collectBody(resp, maxBodyBytes, buffer -> completeBody(status, buffer, contentType));
            return;
        }
        if (contentType == null || !contentType.regionMatches(true, 0, "text/event-stream", 0, 17)) {
            fail(AttemptOutcome.MALFORMED_RESPONSE, "answered a stream request with content type "
                    + (contentType == null ? "none" : '"' + contentType + '"'));
            return;
        }
        resp.handler(this::onStreamChunk);
        resp.endHandler(v -> {
            if (state != State.DONE) {
                fail(AttemptOutcome.TRUNCATED, state == State.STREAMING
                        ? "stream ended without data: [DONE]"
                        : "stream ended before any data event");
            }
        });
    }

    private void onStreamChunk(Buffer chunk) {
        if (state == State.DONE) {
            return;
        }
        clock.event();
        boolean wellFormed = splitter.feed(chunk, this::onStreamEvent);
        if (state == State.DONE) {
            return;
        }
        if (!wellFormed) {
            fail(AttemptOutcome.MALFORMED_RESPONSE, "sent more than " + MAX_PARTIAL_EVENT
                    + " bytes without an SSE event boundary");
            return;
        }
        listener.onChunkEnd();
    }

    private void onStreamEvent(Buffer buffer, ByteBuf bytes, int start, int contentEnd, int end) {
        if (state == State.DONE) {
            return;
        }
        SseEvents.Kind kind = SseEvents.classify(bytes, start, contentEnd);
        if (kind == SseEvents.Kind.COMMENT || kind == SseEvents.Kind.OTHER) {
            return;
        }
        if (state == State.WAITING) {
            state = State.STREAMING;
            clock.idle();
        }
        if (kind == SseEvents.Kind.ERROR) {
            Buffer payload = Buffer.buffer(SseEvents.payload(buffer, start, contentEnd));
            finish(AttemptOutcome.STREAM_ERROR_EVENT, 200, payload, "application/json",
                    "reported an error in the stream", null);
            return;
        }
        listener.onEvent(buffer, start, end, kind);
        if (kind == SseEvents.Kind.DONE) {
            drainAfterDone();
            finish(AttemptOutcome.COMPLETED, 200, null, "text/event-stream", "completed", null);
        }
    }

    /**
     * The answer is complete at {@code [DONE]}; let the upstream close its response normally so the connection
     * returns to the pool, but never wait on it for long.
     */
    private void drainAfterDone() {
        HttpClientResponse resp = response;
        HttpClientRequest req = request;
        resp.handler(null);
        long guard = vertx.setTimer(DRAIN_GRACE_MS, id -> req.reset());
        resp.endHandler(v -> vertx.cancelTimer(guard));
        resp.exceptionHandler(e -> vertx.cancelTimer(guard));
        if (paused) {
            resp.resume();
        }
    }

    /**
     * A non-stream answer must be a JSON object: an HTML error page with a 200 is a backend fault, not an answer. It
     * is checked in one streaming pass and relayed as it arrived (see {@link NonStreamAnswer}).
     */
    private void completeBody(int status, Buffer buffer, String contentType) {
        if (buffer.length() <= NonStreamAnswer.INLINE_SUMMARY_BYTES) {
            summarized(status, buffer, contentType, NonStreamAnswer.summarize(buffer));
            return;
        }
        // A large answer is read on a worker: however it is built, the event loop (every other request, the health
        // checks) never waits on it. Its result comes back to this context; the client (or the non-stream bound)
        // may end the attempt meanwhile, and then it is dropped. The backend's part is done: its clocks stop.
        clock.stop();
        vertx.getOrCreateContext().executeBlocking(() -> NonStreamAnswer.summarize(buffer), false)
                .onComplete(read -> {
                    if (state != State.DONE) {
                        summarized(status, buffer, contentType, read.succeeded() ? read.result() : null);
                    }
                });
    }

    private void summarized(int status, Buffer buffer, String contentType, ObjectNode summary) {
        if (summary == null) {
            fail(AttemptOutcome.MALFORMED_RESPONSE, "answered 200 with a body that is not a JSON object");
            return;
        }
        finish(AttemptOutcome.COMPLETED, status, buffer, contentType, "completed", summary);
    }

    /** Collects a body under {@code limit} and the body budget; the attempt fails rather than the heap. */
    private void collectBody(HttpClientResponse resp, long limit, java.util.function.Consumer<Buffer> onComplete) {
        collector = new AnswerCollector(limit, budget);
        collector.collect(resp, () -> state == State.DONE, clock::event, this::fail,
                onComplete);
    }

    private void onConnectFailure(Throwable cause) {
        if (cause instanceof TimeoutException || cause.getClass().getSimpleName().contains("Timeout")) {
            fail(AttemptOutcome.CONNECT_TIMEOUT, "not connected within " + clocks.connectMs() + " ms");
        } else if (cause instanceof ConnectException) {
            fail(AttemptOutcome.CONNECT_FAILED, "connection refused");
        } else if (cause instanceof UnknownHostException) {
            fail(AttemptOutcome.CONNECT_FAILED, "host not found");
        } else {
            fail(AttemptOutcome.CONNECT_FAILED, "could not connect (" + cause.getClass().getSimpleName() + ")");
        }
    }

    private void onTransportFailure(Throwable cause) {
        if (state == State.DONE) {
            return;
        }
        fail(AttemptOutcome.TRUNCATED, state == State.STREAMING
                ? "connection lost mid-stream"
                : "connection lost before the answer (" + cause.getClass().getSimpleName() + ")");
    }

    /**
     * Ends the attempt on a fault and closes the upstream connection. The outcome is settled first: resetting the
     * request fires its exception handler synchronously, and that echo must not be mistaken for a second fault.
     */
    private void fail(AttemptOutcome outcome, String detail) {
        if (state == State.DONE) {
            return;
        }
        finish(outcome, response == null ? 0 : response.statusCode(), null, null, detail, null);
        resetUpstream();
    }

    private void finish(AttemptOutcome outcome, int status, Buffer body, String contentType, String detail,
                        ObjectNode json) {
        if (state == State.DONE) {
            return;
        }
        state = State.DONE;
        cancelTimers();
        long elapsedMs = (System.nanoTime() - startNanos) / 1_000_000;
        BodyBudget.Lease lease = outcome == AttemptOutcome.COMPLETED && collector != null ? collector.lease() : null;
        try {
            listener.onEnd(new Result(outcome, status, body, contentType, detail, elapsedMs, json, lease));
        } finally {
            // Error bodies are read during onEnd; a completed answer's bytes stay held only if they were taken over.
            releaseBody();
        }
    }

    private void releaseBody() {
        if (collector != null) {
            collector.release();
        }
    }

    private void cancelTimers() {
        clock.stop();
    }

    private void resetUpstream() {
        if (request != null) {
            request.reset();
        }
    }
}

package org.canonic.gateway.coordination;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.jboss.logging.Logger;

import java.net.URI;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One receiver: its own bounded queue, its own HTTP client and pool, and at most {@code concurrency} deliveries in
 * progress (an event waiting for its retry keeps its place). A receiver that hangs or fails therefore only ever
 * holds up its own events. Everything except {@link #offer} runs on the one Vert.x context of {@link Webhooks}, so
 * the counters here need no locks.
 */
final class WebhookEndpoint {

    private static final Logger LOG = Logger.getLogger(WebhookEndpoint.class);
    /** Upper bound of one retry pause, whatever the backoff or a Retry-After asks for: the event holds a slot. */
    static final long MAX_BACKOFF_MS = 10 * 60_000L;

    record Event(String id, byte[] body) {
    }

    /** What an attempt's outcome means for the event. */
    interface Outcomes {
        void delivered();

        void failedAttempt();

        void dropped(int events);
    }

    private final URI url;
    private final String origin;
    private final WebhookSettings settings;
    private final WebhookSigner signer;
    private final Vertx vertx;
    private final Context context;
    private final HttpClient client;
    private final Outcomes outcomes;
    private final ArrayBlockingQueue<Event> queue;
    private volatile boolean disabled;
    private volatile boolean closed;
    private int active;

    WebhookEndpoint(URI url, WebhookSettings settings, WebhookSigner signer, Vertx vertx, Context context,
                    Outcomes outcomes) {
        this.url = url;
        this.origin = WebhookSettings.origin(url);
        this.settings = settings;
        this.signer = signer;
        this.vertx = vertx;
        this.context = context;
        this.outcomes = outcomes;
        this.queue = new ArrayBlockingQueue<>(settings.queueSize());
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis());
        boolean ssl = "https".equalsIgnoreCase(url.getScheme());
        HttpClientOptions options = new HttpClientOptions()
                .setName("webhook")
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                .setSsl(ssl)
                .setForceSni(ssl)
                .setVerifyHost(true)
                .setConnectTimeout(timeoutMs)
                .setKeepAlive(true)
                .setKeepAliveTimeout(30);
        this.client = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(settings.concurrency()));
    }

    /** From any thread: queues the event, or answers false when the queue is full or the receiver disabled. */
    boolean offer(Event event) {
        return !disabled && !closed && queue.offer(event);
    }

    int queued() {
        return queue.size();
    }

    /** Starts deliveries while slots are free. On the context. */
    void pump() {
        Event event;
        while (!disabled && !closed && active < settings.concurrency() && (event = queue.poll()) != null) {
            active++;
            attempt(event, 1);
        }
    }

    private void attempt(Event event, int number) {
        long now = System.currentTimeMillis() / 1000;
        RequestOptions request = new RequestOptions()
                .setMethod(HttpMethod.POST)
                .setAbsoluteURI(url.toString())
                .putHeader("content-type", "application/json")
                .putHeader("user-agent", "magic-gateway-webhooks")
                .putHeader(WebhookSigner.WEBHOOK_ID, event.id())
                .putHeader(WebhookSigner.WEBHOOK_TIMESTAMP, Long.toString(now));
        if (signer != null) {
            // Signed per attempt, so a retry's timestamp is fresh; the id stays, for the receiver to deduplicate.
            request.putHeader(WebhookSigner.GATEWAY_SIGNATURE, signer.gatewaySignature(now, event.body()));
            request.putHeader(WebhookSigner.WEBHOOK_SIGNATURE, signer.standardSignature(event.id(), now,
                    event.body()));
        }
        Attempt attempt = new Attempt(event, number);
        attempt.timer = vertx.setTimer(settings.timeout().toMillis(), id -> attempt.finish(-1, null, "timed out"));
        Future<HttpClientRequest> creating;
        try {
            creating = client.request(request);
        } catch (RuntimeException e) {
            // A closed client (shutdown) throws instead of failing the future.
            attempt.finish(-1, null, e.getClass().getSimpleName());
            return;
        }
        creating.onComplete(created -> {
            if (created.failed()) {
                attempt.finish(-1, null, created.cause().getClass().getSimpleName());
                return;
            }
            HttpClientRequest sent = created.result();
            if (!attempt.take(sent)) {
                sent.reset();
                return;
            }
            sent.send(Buffer.buffer(event.body())).onComplete(response -> {
                if (response.failed()) {
                    attempt.finish(-1, null, response.cause().getClass().getSimpleName());
                    return;
                }
                // The body is not wanted, but must be read so the connection can be reused.
                response.result().handler(ignored -> {
                }).exceptionHandler(ignored -> {
                });
                attempt.finish(response.result().statusCode(), response.result().getHeader("retry-after"), null);
            });
        });
    }

    /** One attempt; its first ending (answer, failure or timeout) counts, later ones are ignored. */
    private final class Attempt {
        final Event event;
        final int number;
        long timer;
        HttpClientRequest request;
        boolean done;

        Attempt(Event event, int number) {
            this.event = event;
            this.number = number;
        }

        /** Remembers the request so a timeout can close it; false when the attempt already ended. */
        boolean take(HttpClientRequest request) {
            this.request = request;
            return !done;
        }

        /** @param status the answer's status, or -1 with {@code failure} saying what went wrong */
        void finish(int status, String retryAfter, String failure) {
            if (done) {
                return;
            }
            done = true;
            vertx.cancelTimer(timer);
            if (status < 0 && request != null) {
                request.reset();
            }
            outcome(event, number, status, retryAfter, failure);
        }
    }

    private void outcome(Event event, int number, int status, String retryAfter, String failure) {
        if (status >= 200 && status < 300) {
            outcomes.delivered();
            release();
            return;
        }
        if (status == 410) {
            // The receiver says it is gone for good (Standard Webhooks): stop sending it anything.
            disabled = true;
            int dropped = 1 + queue.size();
            queue.clear();
            outcomes.dropped(dropped);
            LOG.warnf("Webhook receiver %s answered 410 Gone: disabled until the gateway restarts", origin);
            release();
            return;
        }
        outcomes.failedAttempt();
        String what = status > 0 ? "answered " + status : failure;
        if (number >= settings.maxAttempts()) {
            outcomes.dropped(1);
            LOG.warnf("Webhook %s to %s dropped after %d attempts (last: %s)", event.id(), origin, number, what);
            release();
            return;
        }
        if (closed) {
            outcomes.dropped(1);
            release();
            return;
        }
        long pause = backoffMs(number, retryAfter);
        LOG.debugf("Webhook %s to %s %s; attempt %d in %d ms", event.id(), origin, what, number + 1, pause);
        vertx.setTimer(Math.max(1, pause), id -> context.runOnContext(v -> attempt(event, number + 1)));
    }

    /** Exponential backoff with up to half again as jitter, never shorter than a receiver's Retry-After seconds. */
    long backoffMs(int failedAttempt, String retryAfter) {
        long base = settings.initialBackoff().toMillis() << Math.min(failedAttempt - 1, 20);
        long pause = base + (base > 1 ? ThreadLocalRandom.current().nextLong(base / 2 + 1) : 0);
        if (retryAfter != null && retryAfter.strip().matches("\\d{1,6}")) {
            pause = Math.max(pause, Long.parseLong(retryAfter.strip()) * 1000);
        }
        return Math.min(pause, MAX_BACKOFF_MS);
    }

    private void release() {
        active--;
        pump();
    }

    boolean disabled() {
        return disabled;
    }

    String origin() {
        return origin;
    }

    void close() {
        closed = true;
        client.close();
    }
}

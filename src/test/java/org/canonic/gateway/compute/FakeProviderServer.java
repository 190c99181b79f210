package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Common ground of the fake provider APIs: a loopback Vert.x server, a request log, auth, 429s, delays. */
public abstract class FakeProviderServer implements AutoCloseable {

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** One request as the fake received it (the Authorization header is kept to check it, never printed). */
    public record Received(String method, String path, String query, String authorization, JsonNode body, String raw) {
    }

    final String key;
    final HttpServer server;
    final Vertx vertx;
    final List<Received> received = new CopyOnWriteArrayList<>();
    /** This many next requests answer 429 with Retry-After. */
    public final AtomicInteger tooMany = new AtomicInteger();
    /** Answers of this path prefix are delayed by {@link #delayMs} (a provider that is slow to answer). */
    volatile String delayedPrefix;
    volatile long delayMs;
    /** The Retry-After of those 429s: delay-seconds or an HTTP date. */
    public volatile String retryAfter = "1";
    /** The next requests matching a rule answer its status without acting (a transient provider error). */
    private final List<Failure> failures = new CopyOnWriteArrayList<>();
    /** Instances created less than this long ago are missing from lists (a provider whose list lags its creates). */
    public volatile long listLagMs;

    private record Failure(String method, String pathPrefix, int status, AtomicInteger left) {
    }

    /** The next {@code times} requests of {@code method} on {@code pathPrefix} answer {@code status}, doing nothing. */
    public void failNext(String method, String pathPrefix, int status, int times) {
        failures.add(new Failure(method, pathPrefix, status, new AtomicInteger(times)));
    }

    FakeProviderServer(Vertx vertx, String key) {
        this.vertx = vertx;
        this.key = key;
        this.server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
            String raw = body.toString();
            JsonNode json = null;
            try {
                json = raw.isBlank() ? null : MAPPER.readTree(raw);
            } catch (Exception e) {
                // recorded raw
            }
            Received r = new Received(request.method().name(), request.path(), request.query(),
                    request.getHeader("Authorization"), json, raw);
            received.add(r);
            if (tooMany.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                request.response().setStatusCode(429).putHeader("Retry-After", retryAfter)
                        .end("{\"error\":\"rate_limited\"}");
                return;
            }
            for (Failure f : failures) {
                if (f.method().equals(r.method()) && r.path().startsWith(f.pathPrefix())
                        && f.left().getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    request.response().setStatusCode(f.status()).end("{\"error\":\"fake transient " + f.status()
                            + "\"}");
                    return;
                }
            }
            String prefix = delayedPrefix;
            if (prefix != null && request.path().startsWith(prefix)) {
                vertx.setTimer(delayMs, t -> answer(request, r));
            } else {
                answer(request, r);
            }
        }));
        try {
            server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void answer(HttpServerRequest request, Received r) {
        try {
            handle(request, r);
        } catch (RuntimeException e) {
            request.response().setStatusCode(500).end("{\"error\":\"fake: " + e + "\"}");
        }
    }

    abstract void handle(HttpServerRequest request, Received r);

    static void json(HttpServerRequest request, int status, Object body) {
        try {
            request.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                    .end(Buffer.buffer(MAPPER.writeValueAsBytes(body)));
        } catch (Exception e) {
            request.response().setStatusCode(500).end();
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public List<Received> received(String method, String pathPrefix) {
        return received.stream().filter(r -> r.method().equals(method) && r.path().startsWith(pathPrefix)).toList();
    }

    public void reset() {
        received.clear();
        tooMany.set(0);
        delayedPrefix = null;
        retryAfter = "1";
        failures.clear();
        listLagMs = 0;
    }

    /** Whether an instance created at {@code createdMs} shows in a list now. */
    boolean listed(Long createdMs) {
        return createdMs == null || System.currentTimeMillis() - createdMs >= listLagMs;
    }

    @Override
    public void close() {
        server.close();
    }
}

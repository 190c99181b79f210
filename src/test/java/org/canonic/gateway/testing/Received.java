package org.canonic.gateway.testing;

import io.vertx.core.MultiMap;

import java.util.concurrent.CompletableFuture;

/**
 * One request as the fake vLLM received it, and whether (and when) the gateway closed the connection before the
 * fake had finished answering.
 */
public final class Received {
    public final String method;
    public final String path;
    public final MultiMap headers;
    public final String body;
    public final long receivedNanos;
    /** Completes with System.nanoTime() when the connection closed before the answer was complete. */
    public final CompletableFuture<Long> closedEarly = new CompletableFuture<>();

    Received(String method, String path, MultiMap headers, String body) {
        this.method = method;
        this.path = path;
        this.headers = headers;
        this.body = body;
        this.receivedNanos = System.nanoTime();
    }
}

package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.routing.Route;

/**
 * What the policy filters see and fill in, one request at a time. Filters run in order; each may read what the
 * earlier ones established (the parsed body, the route) and refuse by throwing {@link Refusal}.
 */
public final class PolicyContext {

    private final String requestId;
    private final Endpoint endpoint;
    private final MultiMap headers;
    private final Buffer rawBody;
    private final long startNanos;

    ObjectNode body;
    String model;
    Route route;
    boolean stream;
    boolean clientWantsUsage;

    public PolicyContext(String requestId, Endpoint endpoint, MultiMap headers, Buffer rawBody, long startNanos) {
        this.requestId = requestId;
        this.endpoint = endpoint;
        this.headers = headers;
        this.rawBody = rawBody;
        this.startNanos = startNanos;
    }

    public String requestId() {
        return requestId;
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public MultiMap headers() {
        return headers;
    }

    public Buffer rawBody() {
        return rawBody;
    }

    public long startNanos() {
        return startNanos;
    }

    /** The parsed body; null until {@link JsonBodyFilter} ran. */
    public ObjectNode body() {
        return body;
    }

    public Route route() {
        return route;
    }
}

package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.fleet.FleetSnapshot;
import org.canonic.gateway.fleet.Route;

/**
 * What the policy filters see and fill in, one request at a time. Filters run in order; each may read what the
 * earlier ones established (the parsed body, the route) and refuse by throwing {@link Refusal}.
 */
public final class PolicyContext {

    private final String requestId;
    private final Endpoint endpoint;
    private final MultiMap headers;
    private final long startNanos;
    private Buffer rawBody;

    String keyId;
    ClientKeys.Entry key;
    ObjectNode body;
    String model;
    /** The fleet as it was when the request's body was admitted: the one view every later step reads. */
    FleetSnapshot fleet;
    Route route;
    boolean stream;
    boolean clientWantsUsage;
    int limit;
    String limitField;

    public PolicyContext(String requestId, Endpoint endpoint, MultiMap headers, long startNanos) {
        this.requestId = requestId;
        this.endpoint = endpoint;
        this.headers = headers;
        this.startNanos = startNanos;
    }

    /** The body, once read (after the header filters passed). */
    public void body(Buffer rawBody) {
        this.rawBody = rawBody;
    }

    /** The id of the client key that authenticated the request (never the key), null before authentication. */
    public String keyId() {
        return keyId;
    }

    /** The model name the client sent, null before the body was read. */
    public String model() {
        return model;
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

    /**
     * The model name as the client sent it, bounded and printable, whether or not any route serves it: so the record
     * of a refusal ({@code model_not_found} above all) says what was asked for. Null when the body has no string
     * {@code model}.
     */
    public String requestedModel() {
        JsonNode model = body == null ? null : body.get("model");
        return model != null && model.isTextual() ? printable(model.asText()) : null;
    }

    /** Whether the client asked for a stream, read from the body even when a filter refused it before the flags. */
    public boolean requestedStream() {
        JsonNode stream = body == null ? null : body.get("stream");
        return stream != null && stream.isBoolean() && stream.booleanValue();
    }

    /** A client string fit to echo or record: at most 100 characters, control characters replaced. */
    static String printable(String value) {
        return OpenAiError.echo(value, 100);
    }

    /** The parsed body; null until {@link JsonBodyFilter} ran. */
    public ObjectNode body() {
        return body;
    }

    public Route route() {
        return route;
    }
}

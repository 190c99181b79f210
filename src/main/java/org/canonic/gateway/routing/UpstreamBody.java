package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.relay.GatewayHeaders;

/**
 * The body sent to one backend: the client's JSON with only the governed fields changed. {@code model} becomes the
 * backend's own id; the completion limit becomes the one fitted to this backend, in the field the client used (both
 * fields when it sent both, so they cannot disagree); on streams {@code stream_options.include_usage} is forced on
 * so usage is always known (the usage chunk is removed again for clients that did not ask for it). Everything else
 * passes through.
 */
final class UpstreamBody {

    private static final String MAX_TOKENS = "max_tokens";
    private static final String MAX_COMPLETION_TOKENS = "max_completion_tokens";
    // Header names and values encoded once (a String is hashed and encoded again on every request).
    private static final CharSequence EVENT_STREAM = HttpHeaders.createOptimized("text/event-stream");
    private static final CharSequence IDENTITY = HttpHeaders.createOptimized("identity");

    private UpstreamBody() {
    }

    /**
     * The headers sent with it: the client's allow-listed headers, then what the gateway sets itself (content type,
     * accept, no compression, the request id, the backend's own key; the client's key never goes upstream).
     */
    static MultiMap headers(ProxyRequest request, Backend backend) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(request.forwardHeaders());
        headers.set(HttpHeaders.CONTENT_TYPE, GatewayHeaders.APPLICATION_JSON);
        headers.set(HttpHeaders.ACCEPT, request.stream() ? EVENT_STREAM : GatewayHeaders.APPLICATION_JSON);
        headers.set(HttpHeaders.ACCEPT_ENCODING, IDENTITY);
        headers.set(GatewayHeaders.Encoded.REQUEST_ID, request.requestId());
        backend.authorization().ifPresent(value -> headers.set(HttpHeaders.AUTHORIZATION, value));
        return headers;
    }

    static Buffer forCandidate(ProxyRequest request, Candidate candidate, RequestJson json) {
        ObjectNode body = request.body();
        body.put("model", candidate.backend().spec().model());
        boolean both = body.hasNonNull(MAX_TOKENS) && body.hasNonNull(MAX_COMPLETION_TOKENS);
        body.put(request.limitField(), candidate.maxTokens());
        if (both) {
            body.put(MAX_TOKENS, candidate.maxTokens());
        }
        if (request.stream()) {
            ObjectNode options = body.has("stream_options") && body.get("stream_options").isObject()
                    ? (ObjectNode) body.get("stream_options")
                    : body.putObject("stream_options");
            options.put("include_usage", true);
        }
        return Buffer.buffer(json.write(body));
    }
}

package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.policy.RequestJson;

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

    private UpstreamBody() {
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

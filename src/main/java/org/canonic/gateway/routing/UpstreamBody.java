package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.policy.RequestJson;

/**
 * The body sent to one backend: the client's JSON with only the governed fields changed. {@code model} becomes the
 * backend's own id; on streams {@code stream_options.include_usage} is forced on so usage is always known (the
 * usage chunk is removed again for clients that did not ask for it). Everything else passes through.
 */
final class UpstreamBody {

    private UpstreamBody() {
    }

    static Buffer forBackend(ProxyRequest request, Backend backend, RequestJson json) {
        ObjectNode body = request.body();
        body.put("model", backend.model());
        if (request.stream()) {
            ObjectNode options = body.has("stream_options") && body.get("stream_options").isObject()
                    ? (ObjectNode) body.get("stream_options")
                    : body.putObject("stream_options");
            options.put("include_usage", true);
        }
        return Buffer.buffer(json.write(body));
    }
}

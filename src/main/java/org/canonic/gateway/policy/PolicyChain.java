package org.canonic.gateway.policy;

import io.vertx.core.MultiMap;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.routing.Topology;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * The fail-closed gate in front of routing. Every proxied request passes every filter, in the order listed here;
 * the only way to a {@link ProxyRequest} (and so to a backend) is {@link #admit(PolicyContext)}.
 */
public final class PolicyChain {

    private static final Logger LOG = Logger.getLogger(PolicyChain.class);

    private final List<PolicyFilter> filters;

    public PolicyChain(Topology topology, RequestJson json) {
        this.filters = List.of(
                new JsonBodyFilter(json),
                new ModelRouteFilter(topology),
                new StreamFlagsFilter());
    }

    /**
     * Runs every filter and returns the admitted request, or throws {@link Refusal}. A filter that fails in an
     * unexpected way refuses the request too: when validation cannot be performed, nothing is forwarded.
     */
    public ProxyRequest admit(PolicyContext request) {
        for (PolicyFilter filter : filters) {
            try {
                filter.check(request);
            } catch (Refusal refusal) {
                throw refusal;
            } catch (RuntimeException e) {
                LOG.errorf(e, "Policy filter %s failed on request %s; refusing it",
                        filter.getClass().getSimpleName(), request.requestId());
                throw new Refusal(OpenAiError.server(500,
                        "The request could not be validated, so it was not forwarded. Retry later.",
                        "validation_unavailable"));
            }
        }
        if (request.body == null || request.route == null) {
            throw new Refusal(OpenAiError.server(500,
                    "The request could not be validated, so it was not forwarded.", "validation_unavailable"));
        }
        return new ProxyRequest(request.requestId(), request.endpoint(), request.body, request.stream,
                request.clientWantsUsage, request.model, request.route, forwardableHeaders(request.headers()),
                request.startNanos());
    }

    /**
     * Client headers that may go upstream: everything end-to-end except credentials, cookies and what the gateway
     * sets itself. Hop-by-hop headers (and any named in {@code Connection}) never cross a proxy.
     */
    static MultiMap forwardableHeaders(MultiMap headers) {
        MultiMap forward = MultiMap.caseInsensitiveMultiMap();
        String connection = headers.get("connection");
        for (var entry : headers) {
            String name = entry.getKey();
            if (ForwardedHeaders.isDropped(name) || (connection != null && ForwardedHeaders.listed(connection, name))) {
                continue;
            }
            forward.add(name, entry.getValue());
        }
        return forward;
    }
}

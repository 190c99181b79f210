package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import org.canonic.gateway.routing.Route;

/**
 * A request that passed every policy filter: the only thing the routing stage accepts, so nothing reaches a
 * backend without having been validated.
 *
 * @param requestId        propagated or generated request id
 * @param endpoint         which OpenAI operation
 * @param body             the parsed JSON body; only governed fields are changed before it goes upstream
 * @param stream           whether the client asked for SSE
 * @param clientWantsUsage whether the client asked for the usage chunk ({@code stream_options.include_usage})
 * @param requestedModel   the model name the client sent
 * @param route            the route that name maps to
 * @param forwardHeaders   client headers safe to pass upstream (no credentials, no hop-by-hop headers)
 * @param startNanos       when the request arrived
 */
public record ProxyRequest(String requestId, Endpoint endpoint, ObjectNode body, boolean stream,
                           boolean clientWantsUsage, String requestedModel, Route route, MultiMap forwardHeaders,
                           long startNanos) {
}

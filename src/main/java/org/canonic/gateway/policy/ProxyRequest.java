package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import org.canonic.gateway.fleet.Route;

import java.util.List;

/**
 * A request that passed every policy filter: the only thing the routing stage accepts, so nothing reaches a
 * backend without having been validated.
 *
 * @param requestId        propagated or generated request id
 * @param keyId            id of the client key that authenticated it ({@code anonymous} without authentication)
 * @param endpoint         which OpenAI operation
 * @param body             the parsed JSON body; only governed fields are changed before it goes upstream
 * @param stream           whether the client asked for SSE
 * @param clientWantsUsage whether the client asked for the usage chunk ({@code stream_options.include_usage})
 * @param requestedModel   the model name the client sent
 * @param route            the route that name maps to
 * @param candidates       the route's backends (fallback last) whose windows fit, each with its completion limit
 * @param limitField       the completion-limit field the client used ({@code max_tokens} when it set none)
 * @param promptTokens     the prompt size the fit was decided on
 * @param promptExact      whether that size is a backend's exact count rather than an upper estimate
 * @param forwardHeaders   the allow-listed client headers that travel upstream ({@link ForwardedHeaders})
 * @param sessionId        the client's session, from {@code gateway.routing.affinity.session-header} (null: none)
 * @param startNanos       when the request arrived
 * @param reservation      what the request holds of its key's limits until it ends (settle it exactly once)
 */
public record ProxyRequest(String requestId, String keyId, Endpoint endpoint, ObjectNode body, boolean stream,
                           boolean clientWantsUsage, String requestedModel, Route route, List<Candidate> candidates,
                           String limitField, int promptTokens, boolean promptExact, MultiMap forwardHeaders,
                           String sessionId, long startNanos, KeyLimits.Reservation reservation) {
}

package org.canonic.gateway.ops;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.CoordinationUnavailable;
import org.canonic.gateway.coordination.LockRequestException;
import org.canonic.gateway.coordination.Locked;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns the coordination refusals into OpenAI-shaped answers, for every JAX-RS resource (global mappers): an admin
 * endpoint only has to let {@link Locked}, {@link LockRequestException} or {@link CoordinationUnavailable} propagate.
 */
public class AdminErrors {

    /** 423 with {@code Retry-After} = seconds until the lock expires; names holder and expiry, never the token. */
    @ServerExceptionMapper
    public Response locked(Locked e) {
        return respond(OpenAiError.invalidRequest(423, e.getMessage(), null, Locked.CODE), e.secondsLeft());
    }

    @ServerExceptionMapper
    public Response badLockRequest(LockRequestException e) {
        return respond(OpenAiError.invalidRequest(e.status(), e.getMessage(), e.param(), e.code()), 0);
    }

    /** 503: the change was not made because it could not be persisted or audited. */
    @ServerExceptionMapper
    public Response unavailable(CoordinationUnavailable e) {
        return respond(OpenAiError.server(503, e.getMessage(), e.code()), 0);
    }

    /** 503 with Retry-After: the shared state store did not answer, so nothing was changed. */
    @ServerExceptionMapper
    public Response storeUnavailable(StateStoreUnavailable e) {
        return respond(OpenAiError.server(503, e.getMessage(), StateStoreUnavailable.CODE),
                StateStoreUnavailable.RETRY_AFTER_SECONDS);
    }

    static Response respond(OpenAiError error, long retryAfterSeconds) {
        Response.ResponseBuilder response = Response.status(error.status()).type(MediaType.APPLICATION_JSON)
                .entity(error.toJson());
        if (retryAfterSeconds > 0) {
            response.header("Retry-After", Long.toString(retryAfterSeconds));
        }
        return response.build();
    }
}

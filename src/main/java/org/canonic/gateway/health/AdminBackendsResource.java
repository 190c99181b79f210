package org.canonic.gateway.health;

import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.routing.BackendSlots;
import org.canonic.gateway.routing.ConcurrencyLimits;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;

/**
 * {@code GET /admin/backends}: the read-only operator view of every backend. Protected by the bearer token in
 * {@code GATEWAY_ADMIN_TOKEN} (compared in constant time); without a configured token the view does not exist.
 */
@Path("/admin/backends")
public class AdminBackendsResource {

    @Inject
    HealthRegistry health;

    @Inject
    ConcurrencyLimits limits;

    @Inject
    GatewayConfig config;

    @RegisterForReflection
    public record BackendView(String name, String origin, String model, String probe, String state, String reason,
                              String breaker, int inFlight, int maxConcurrency, int maxModelLen, String lastProbe,
                              String lastFault) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response backends(@HeaderParam("Authorization") String authorization) {
        String token = config.adminToken().map(String::trim).filter(t -> !t.isEmpty()).orElse(null);
        if (token == null) {
            return error(OpenAiError.invalidRequest(404, "Not found.", null, "not_found"));
        }
        if (authorization == null || !constantTimeEquals(authorization, "Bearer " + token)) {
            return error(new OpenAiError(401, "A valid admin bearer token is required.", "authentication_error",
                    null, "invalid_admin_token"));
        }
        List<BackendView> views = health.all().stream().map(this::view).toList();
        return Response.ok(views).build();
    }

    private BackendView view(BackendHealth backend) {
        HealthSnapshot snapshot = backend.snapshot();
        BackendSlots slots = limits.of(backend.backend());
        return new BackendView(backend.backend().name(), backend.backend().endpoint().origin(),
                backend.backend().model(), backend.backend().probe().name(), snapshot.state().name(),
                snapshot.reason(), backend.breakerState().name(), slots.inFlight(), slots.max(),
                snapshot.maxModelLen(), snapshot.lastProbeEpochMs() == 0 ? null
                : Instant.ofEpochMilli(snapshot.lastProbeEpochMs()).toString(), backend.lastFaultClass());
    }

    private static Response error(OpenAiError error) {
        return Response.status(error.status()).type(MediaType.APPLICATION_JSON).entity(error.toJson()).build();
    }

    private static boolean constantTimeEquals(String given, String expected) {
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }
}

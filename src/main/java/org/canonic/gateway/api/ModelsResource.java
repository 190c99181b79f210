package org.canonic.gateway.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.policy.ClientKeys;
import org.canonic.gateway.policy.PolicyChain;
import org.canonic.gateway.policy.Refusal;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.FleetSnapshot;
import org.canonic.gateway.fleet.Route;
import org.canonic.gateway.relay.OpenAiError;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code GET /v1/models}: the model names clients may send, in OpenAI's list shape. Kilo Code and the OpenAI SDKs
 * read only the ids; {@code route} tells an operator which route each name belongs to. {@code GET /v1/models/{model}}
 * answers one of them as OpenAI's API does (the model object, or 404 {@code model_not_found}).
 */
@Path("/v1/models")
public class ModelsResource {

    /** Constant creation time: the list describes configuration, which has no meaningful age. */
    private static final long CREATED = 0L;

    @Inject
    Fleet fleet;

    @Inject
    PolicyChain policy;

    @Inject
    GracefulShutdown shutdown;

    @RegisterForReflection
    public record ModelCard(String id, String object, long created, String owned_by, String route) {
    }

    @RegisterForReflection
    public record ModelList(String object, List<ModelCard> data) {
    }

    /** Needs the same client key as completions, and lists only the routes that key may use. */
    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Response list(@Context HttpHeaders headers) {
        if (shutdown.closing()) {
            return stopping();
        }
        Optional<ClientKeys.Entry> key;
        try {
            key = policy.authenticate(headers.getHeaderString(HttpHeaders.AUTHORIZATION));
        } catch (Refusal refusal) {
            return error(refusal.error());
        }
        List<ModelCard> cards = new ArrayList<>();
        FleetSnapshot topology = fleet.snapshot();
        for (Route route : topology.routes()) {
            if (key.isPresent() && !key.get().allows(route.name())) {
                continue;
            }
            for (String name : route.modelNames()) {
                if (topology.routeFor(name).map(route::equals).orElse(false)) {
                    cards.add(new ModelCard(name, "model", CREATED, "magic-gateway", route.name()));
                }
            }
        }
        return Response.ok(new ModelList("list", cards)).build();
    }

    /**
     * One model, by any name completions accept for it (backend model ids contain a slash, hence the pattern). A
     * name the key may not use is as absent as an unknown one, like OpenAI does: the answer never tells which
     * routes exist.
     */
    @GET
    @Path("{model: .+}")
    @Produces(MediaType.APPLICATION_JSON)
    public Response retrieve(@Context HttpHeaders headers, @PathParam("model") String model) {
        if (shutdown.closing()) {
            return stopping();
        }
        Optional<ClientKeys.Entry> key;
        try {
            key = policy.authenticate(headers.getHeaderString(HttpHeaders.AUTHORIZATION));
        } catch (Refusal refusal) {
            return error(refusal.error());
        }
        Optional<Route> route = fleet.snapshot().routeFor(model)
                .filter(r -> key.isEmpty() || key.get().allows(r.name()));
        if (route.isEmpty()) {
            String shown = model.length() > 100 ? model.substring(0, 100) + "..." : model;
            return error(OpenAiError.invalidRequest(404, "The model '" + shown + "' does not exist or you do not"
                    + " have access to it.", "model", "model_not_found"));
        }
        return Response.ok(new ModelCard(model, "model", CREATED, "magic-gateway", route.get().name())).build();
    }

    /** Stopping: like every other API answer, send the client (a model picker, an SDK) to another replica. */
    private static Response stopping() {
        OpenAiError error = OpenAiError.server(503, "The gateway is shutting down and takes no new requests; retry"
                + " (another replica will answer).", "gateway_shutting_down");
        return Response.fromResponse(error(error)).header("Retry-After", ProxyRoutes.SHUTDOWN_RETRY_AFTER_SECONDS)
                .header("Connection", "close").build();
    }

    private static Response error(OpenAiError error) {
        return Response.status(error.status()).type(MediaType.APPLICATION_JSON).entity(error.toJson()).build();
    }
}

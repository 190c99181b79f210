package org.canonic.gateway.api;

import io.quarkus.runtime.annotations.RegisterForReflection;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.canonic.gateway.routing.Route;
import org.canonic.gateway.routing.Topology;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code GET /v1/models}: the model names clients may send, in OpenAI's list shape. Kilo Code and the OpenAI SDKs
 * read only the ids; {@code route} tells an operator which route each name belongs to.
 */
@Path("/v1/models")
public class ModelsResource {

    /** Constant creation time: the list describes configuration, which has no meaningful age. */
    private static final long CREATED = 0L;

    @Inject
    Topology topology;

    @RegisterForReflection
    public record ModelCard(String id, String object, long created, String owned_by, String route) {
    }

    @RegisterForReflection
    public record ModelList(String object, List<ModelCard> data) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public ModelList list() {
        List<ModelCard> cards = new ArrayList<>();
        for (Route route : topology.routes()) {
            for (String name : route.modelNames()) {
                if (topology.routeFor(name).map(route::equals).orElse(false)) {
                    cards.add(new ModelCard(name, "model", CREATED, "magic-gateway", route.name()));
                }
            }
        }
        return new ModelList("list", cards);
    }
}

package org.canonic.gateway.routing;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.relay.ClientChannel;
import org.canonic.gateway.relay.GatewayHeaders;
import org.canonic.gateway.relay.OpenAiError;

import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Entry to the routing stage: orders a request's candidates by health and runs its exchange. Routing reads health;
 * it never probes inline.
 */
public final class Dispatcher {

    private final Topology topology;
    private final ExchangeServices services;

    public Dispatcher(Topology topology, ExchangeServices services) {
        this.topology = topology;
        this.services = services;
    }

    /** Starts an admitted request on its way; must be called on the client request's event loop. */
    public void dispatch(ProxyRequest request, ClientChannel client) {
        List<Backend> all = topology.candidates(request.route());
        List<Backend> candidates = orderByHealth(all, services.availability());
        if (candidates.isEmpty()) {
            client.sendError(noneRoutable(request, all), GatewayHeaders.PROVIDER_NONE, 0, 0,
                    services.retryAfterSeconds());
            return;
        }
        new ProxyExchange(request, candidates, services, client).start();
    }

    /** Routable backends only; healthy before degraded before cold, route order otherwise (the sort is stable). */
    static List<Backend> orderByHealth(List<Backend> candidates, BackendAvailability availability) {
        return candidates.stream()
                .filter(availability::routable)
                .sorted(Comparator.comparingInt(availability::preference))
                .toList();
    }

    private OpenAiError noneRoutable(ProxyRequest request, List<Backend> all) {
        String states = all.stream().map(services.availability()::describe).collect(Collectors.joining("; "));
        return OpenAiError.server(503, "No backend can serve model '" + request.requestedModel() + "' right now: "
                + states + ". Retry later.", "no_backend_available");
    }
}

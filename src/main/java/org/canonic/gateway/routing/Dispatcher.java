package org.canonic.gateway.routing;

import io.vertx.core.Context;
import org.canonic.gateway.placement.Placement;
import org.canonic.gateway.placement.Placements;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.relay.ClientChannel;
import org.canonic.gateway.relay.GatewayHeaders;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.telemetry.Outcome;
import org.canonic.gateway.telemetry.RequestRecord;

import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.stream.Collectors;

/**
 * Entry to the routing stage: keeps a request's routable candidates (healthiest first), has its route's placement
 * rank them, and runs its exchange. Routing reads health; it never probes inline.
 */
public final class Dispatcher {

    private final ExchangeServices services;
    private final Placements placements;
    private volatile WakeOnDemand wake = WakeOnDemand.NONE;

    public Dispatcher(ExchangeServices services, Placements placements) {
        this.services = services;
        this.placements = placements;
    }

    /** Who is asked for capacity when a route has no routable backend (the capacity stage installs itself). */
    public void wakeOnDemand(WakeOnDemand wake) {
        this.wake = wake == null ? WakeOnDemand.NONE : wake;
    }

    /** Starts an admitted request on its way; must be called on the client request's event loop. */
    public void dispatch(ProxyRequest request, ClientChannel client, RequestRecord record) {
        List<Candidate> candidates = orderByHealth(request.candidates());
        if (candidates.isEmpty()) {
            CompletionStage<OptionalLong> waking = wake.wake(request.route().name());
            if (waking == null) {
                refuse(request, client, record, OptionalLong.empty());
                return;
            }
            // Answered back on this request's event loop, whatever thread decided.
            Context context = services.vertx().getOrCreateContext();
            waking.whenComplete((seconds, failure) -> context.runOnContext(v -> refuse(request, client, record,
                    failure == null && seconds != null ? seconds : OptionalLong.empty())));
            return;
        }
        Placement placement = placements.of(request.route().name()).place(request, candidates);
        new ProxyExchange(request, placement, services, client, record).start();
    }

    /**
     * The answer when nothing is routable: {@code capacity_starting} with the expected seconds to ready when a wake is
     * under way, the ordinary {@code no_backend_available} otherwise.
     */
    private void refuse(ProxyRequest request, ClientChannel client, RequestRecord record, OptionalLong starting) {
        if (client.isGone()) {
            // Left while the capacity stage was asked: nobody reads the answer (as a client gone before routing).
            services.telemetry().close(record, Outcome.CANCELLED, 499, "client_cancelled");
            return;
        }
        OpenAiError error;
        long retryAfter;
        if (starting.isPresent()) {
            retryAfter = Math.max(1, starting.getAsLong());
            error = OpenAiError.server(503, "No backend serves model '" + request.requestedModel() + "' right now:"
                    + " capacity for route '" + request.route().name() + "' is starting and expected ready in about "
                    + retryAfter + " s. Retry after that.", "capacity_starting");
        } else {
            retryAfter = services.retryAfterSeconds();
            error = noneRoutable(request, request.candidates());
        }
        client.sendError(error, GatewayHeaders.PROVIDER_NONE, 0, elapsedMs(request), retryAfter);
        services.telemetry().close(record, Outcome.UNAVAILABLE, error.status(), error.code());
    }

    /** Routable backends only; healthy before degraded before cold, route order otherwise (the sort is stable). */
    static List<Candidate> orderByHealth(List<Candidate> candidates) {
        return candidates.stream()
                .filter(candidate -> candidate.backend().routable())
                .sorted(Comparator.comparingInt(candidate -> candidate.backend().preference()))
                .toList();
    }

    private static long elapsedMs(ProxyRequest request) {
        return (System.nanoTime() - request.startNanos()) / 1_000_000;
    }

    private static OpenAiError noneRoutable(ProxyRequest request, List<Candidate> all) {
        if (all.isEmpty()) {
            return OpenAiError.server(503, "No backend serves model '" + request.requestedModel() + "' yet: route '"
                    + request.route().name() + "' has no backend configured or registered. Retry later.",
                    "no_backend_available");
        }
        String states = all.stream().map(candidate -> candidate.backend().describe())
                .collect(Collectors.joining("; "));
        return OpenAiError.server(503, "No backend can serve model '" + request.requestedModel() + "' right now: "
                + states + ". Retry later.", "no_backend_available");
    }
}

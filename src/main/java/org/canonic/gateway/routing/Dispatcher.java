package org.canonic.gateway.routing;

import io.vertx.core.Vertx;
import org.canonic.gateway.backend.BackendClients;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.policy.RequestJson;
import org.canonic.gateway.relay.ClientChannel;

/** Entry to the routing stage: picks a request's candidates and runs its exchange. */
public final class Dispatcher {

    private final Vertx vertx;
    private final Topology topology;
    private final BackendClients clients;
    private final RequestJson json;
    private final long keepAliveMs;
    private final long maxUpstreamBody;

    public Dispatcher(Vertx vertx, Topology topology, BackendClients clients, RequestJson json, long keepAliveMs,
                      long maxUpstreamBody) {
        this.vertx = vertx;
        this.topology = topology;
        this.clients = clients;
        this.json = json;
        this.keepAliveMs = keepAliveMs;
        this.maxUpstreamBody = maxUpstreamBody;
    }

    /** Starts an admitted request on its way; must be called on the client request's event loop. */
    public void dispatch(ProxyRequest request, ClientChannel client) {
        new ProxyExchange(vertx, request, topology.candidates(request.route()), clients, json, client, keepAliveMs,
                maxUpstreamBody).start();
    }
}

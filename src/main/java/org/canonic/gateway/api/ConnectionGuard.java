package org.canonic.gateway.api;

import io.netty.channel.Channel;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.GuardConfig;
import org.canonic.gateway.policy.Endpoint;
import org.canonic.gateway.relay.ClientChannel;
import org.canonic.gateway.relay.GatewayHeaders;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.telemetry.Outcome;
import org.canonic.gateway.telemetry.RequestRecord;
import org.canonic.gateway.telemetry.Telemetry;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The first handler of every request on the HTTP server (health, metrics and admin included), for what no Quarkus or
 * Vert.x option covers:
 * <ul>
 *   <li>on a connection's first request, the cap on connections per client address, and the switch from the
 *       server's pre-request clock to the connection's own {@link ConnectionClock};</li>
 *   <li>on every request, telling that clock when a request starts and ends;</li>
 *   <li>once an answer on an HTTP/1.x connection said {@code Connection: close} (a refusal, a drain, or the client
 *       asked for it), nothing pipelined behind it is executed: Vert.x hands the next pipelined request to the router
 *       as soon as that answer ends, before the connection is closed, so an unauthenticated request could carry an
 *       authenticated one past its 401 to a backend;</li>
 *   <li>a {@code Transfer-Encoding} other than a single {@code chunked} is refused with 501: the HTTP decoder would
 *       read such a body by another length than the sender meant, and what is left over would be read as the next
 *       request.</li>
 * </ul>
 * The Netty channel is reached through Vert.x's {@code ConnectionBase} (as Quarkus' own body handler does): its
 * pipeline is where the connection clock lives.
 */
@ApplicationScoped
public class ConnectionGuard {

    private static final AttributeKey<ConnectionClock> CLOCK = AttributeKey.valueOf("gateway-connection-clock");
    /** Set once an answer on the connection said {@code Connection: close}: no later request on it may run. */
    private static final AttributeKey<Boolean> CLOSING = AttributeKey.valueOf("gateway-connection-closing");

    @Inject
    GatewayConfig config;

    @Inject
    Telemetry telemetry;

    /** Open connections per client address (those that sent a request), for the per-address cap. */
    private final ConcurrentMap<String, AtomicInteger> open = new ConcurrentHashMap<>();

    void register(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(this::handle);
    }

    private void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        Channel channel = channelOf(request.connection());
        if (channel != null && request.version() != HttpVersion.HTTP_2) {
            if (Boolean.TRUE.equals(channel.attr(CLOSING).get())) {
                // Pipelined behind an answer that closes the connection: never executed, never answered.
                request.connection().close();
                return;
            }
            markClosingWhenAnswered(ctx, channel);
        }
        if (channel != null) {
            ConnectionClock clock = channel.attr(CLOCK).get();
            if (clock == null) {
                String address = addressOf(channel);
                if (!admit(address)) {
                    int max = config.connections().maxPerAddress();
                    refuse(ctx, new OpenAiError(429, "This client address already holds " + max + " connections to "
                            + "the gateway, the most it may. Reuse them (keep-alive) or close some, then retry.",
                            "rate_limit_error", null, "too_many_connections"));
                    return;
                }
                clock = install(channel);
                if (address != null) {
                    channel.closeFuture().addListener(closed -> release(address));
                }
            }
            ConnectionClock started = clock;
            started.requestStarted();
            ctx.addEndHandler(ended -> started.requestEnded());
        }
        if (request.headers().contains(HttpHeaders.TRANSFER_ENCODING) && !onlyChunked(request)) {
            String described = String.join(", ", request.headers().getAll(HttpHeaders.TRANSFER_ENCODING));
            String shown = described.length() > 60 ? described.substring(0, 60) + "..." : described;
            refuse(ctx, OpenAiError.invalidRequest(501, "Transfer-Encoding '" + shown + "' is not supported: send "
                    + "the body with Content-Length or Transfer-Encoding: chunked.", null,
                    "unsupported_transfer_encoding"));
            return;
        }
        ctx.next();
    }

    /**
     * Marks the connection closing when this request's answer says {@code Connection: close}, or when the request
     * itself did (Vert.x then closes the connection after the answer, but would still run what was pipelined behind).
     */
    private static void markClosingWhenAnswered(RoutingContext ctx, Channel channel) {
        HttpServerRequest request = ctx.request();
        String asked = request.headers().get(HttpHeaders.CONNECTION);
        boolean keepAlive = request.version() == HttpVersion.HTTP_1_0
                ? asked != null && asked.toLowerCase(java.util.Locale.ROOT).contains("keep-alive")
                : !says(asked, "close");
        if (!keepAlive) {
            channel.attr(CLOSING).set(Boolean.TRUE);
            return;
        }
        ctx.addHeadersEndHandler(v -> {
            if (says(ctx.response().headers().get(HttpHeaders.CONNECTION), "close")) {
                channel.attr(CLOSING).set(Boolean.TRUE);
            }
        });
    }

    private static boolean says(String connectionHeader, String token) {
        return connectionHeader != null && connectionHeader.toLowerCase(java.util.Locale.ROOT).contains(token);
    }

    private static boolean onlyChunked(HttpServerRequest request) {
        List<String> encodings = request.headers().getAll(HttpHeaders.TRANSFER_ENCODING);
        return encodings.size() == 1 && encodings.get(0).strip().equalsIgnoreCase("chunked");
    }

    /** Replaces the server's pre-request clock with this connection's own. Runs on the connection's event loop. */
    private ConnectionClock install(Channel channel) {
        GuardConfig.Connections connections = config.connections();
        ConnectionClock clock = new ConnectionClock(connections.headerTimeout().toNanos(),
                connections.idleTimeout().toNanos());
        IdleStateHandler serverClock = channel.pipeline().get(IdleStateHandler.class);
        if (serverClock != null) {
            channel.pipeline().remove(serverClock);
        }
        channel.pipeline().addFirst("gateway-connection-clock", clock);
        channel.attr(CLOCK).set(clock);
        return clock;
    }

    private boolean admit(String address) {
        int max = config.connections().maxPerAddress();
        if (address == null || max <= 0) {
            return true;
        }
        AtomicInteger count = open.computeIfAbsent(address, a -> new AtomicInteger());
        if (count.incrementAndGet() > max) {
            count.decrementAndGet();
            return false;
        }
        return true;
    }

    private void release(String address) {
        open.computeIfPresent(address, (a, count) -> count.decrementAndGet() <= 0 ? null : count);
    }

    /**
     * Answers in OpenAI's shape and closes the connection once the answer is out. A refused proxied request gets
     * its ledger line like any other.
     */
    private void refuse(RoutingContext ctx, OpenAiError error) {
        HttpServerRequest request = ctx.request();
        String requestId = RequestIds.fromHeader(request.getHeader(GatewayHeaders.REQUEST_ID));
        RequestRecord record = null;
        for (Endpoint endpoint : Endpoint.values()) {
            if (request.method() == HttpMethod.POST && endpoint.clientPath().equals(request.path())) {
                record = telemetry.open(requestId, System.nanoTime());
                record.request(null, null, null, endpoint.operation(), false);
            }
        }
        ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        new ClientChannel(ctx.response(), requestId).sendError(error, GatewayHeaders.PROVIDER_NONE, 0, 0)
                .onComplete(written -> request.connection().close());
        if (record != null) {
            telemetry.close(record, Outcome.REFUSED, error.status(), error.code());
        }
    }

    /** The connection's Netty channel; null for connections that have none (in-VM requests). */
    private static Channel channelOf(HttpConnection connection) {
        return connection instanceof ConnectionBase base ? base.channel() : null;
    }

    /** The peer's IP address; null when the peer has none (Unix domain sockets, in-VM channels). */
    private static String addressOf(Channel channel) {
        return channel.remoteAddress() instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : null;
    }
}

package org.canonic.gateway.api;

import io.quarkus.arc.Unremovable;
import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;

import java.util.concurrent.TimeUnit;

/**
 * The HTTP server's own clock, for the time before a connection's first request. Vert.x's idle timeout (Quarkus'
 * {@code quarkus.http.idle-timeout}, 30 minutes by default) counts reads and writes, so a client sending a head one
 * byte every few seconds would never be cut. A write-idle timeout is a deadline instead: nothing is written before
 * the first answer, so a connection whose first request head has not arrived within the header timeout is closed,
 * however it trickles. (The all-idle timeout, set to the same value, covers the moment before Vert.x has seen the
 * first bytes and chosen between HTTP/1.1 and HTTP/2: its handler for that moment reacts to all-idle only.) At its
 * first request {@link ConnectionGuard} replaces this clock with the connection's own ({@link ConnectionClock}),
 * which knows when a request is in flight. This replaces Quarkus' idle timeout.
 */
@Singleton
@Unremovable // looked up by Quarkus at server start, never injected
public class ServerTimeouts implements HttpServerOptionsCustomizer {

    @Inject
    GatewayConfig config;

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        apply(options);
    }

    @Override
    public void customizeHttpsServer(HttpServerOptions options) {
        apply(options);
    }

    @Override
    public void customizeDomainSocketServer(HttpServerOptions options) {
        apply(options);
    }

    private void apply(HttpServerOptions options) {
        int headerMs = (int) Math.min(Integer.MAX_VALUE, config.connections().headerTimeout().toMillis());
        options.setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        options.setIdleTimeout(headerMs);
        options.setReadIdleTimeout(0);
        options.setWriteIdleTimeout(headerMs);
    }
}

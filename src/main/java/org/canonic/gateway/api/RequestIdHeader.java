package org.canonic.gateway.api;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.canonic.gateway.relay.GatewayHeaders;

/**
 * Every answer of the API port carries {@code x-request-id}: {@code /v1/models}, {@code /health}, {@code /admin/*},
 * refusals and unknown URLs too, so any answer a user reports can be found in the logs and the ledger. The proxied
 * endpoints set their own (the one in their ledger line); this fills in the rest, with the client's id when it sent
 * a sane one.
 */
@ApplicationScoped
public class RequestIdHeader {

    void register(@Observes Router router) {
        // First of all routes, so that even a CORS preflight answered before any endpoint carries it.
        router.route().order(-2000).handler(ctx -> {
            ctx.addHeadersEndHandler(v -> {
                if (ctx.response().headers().get(GatewayHeaders.REQUEST_ID) == null) {
                    ctx.response().putHeader(GatewayHeaders.REQUEST_ID,
                            RequestIds.fromHeader(ctx.request().getHeader(GatewayHeaders.REQUEST_ID)));
                }
            });
            ctx.next();
        });
    }
}

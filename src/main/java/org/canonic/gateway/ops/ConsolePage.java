package org.canonic.gateway.ops;

import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * The operator console is static (META-INF/resources/console: one page, its script and style; the headers that keep
 * it strict are set in application.properties). This only sends {@code /console} to {@code /console/}, where the
 * page's relative script and style URLs resolve. The page reads the admin API with the token the operator types in;
 * it holds no data and no secret of its own.
 */
@ApplicationScoped
public class ConsolePage {

    public static final String PATH = "/console/";

    void register(@Observes Router router) {
        // A route's path also matches with a trailing slash: only the bare one is redirected.
        router.get("/console").handler(ctx -> {
            if (ctx.request().path().equals("/console")) {
                ctx.redirect(PATH);
            } else {
                ctx.next();
            }
        });
    }
}

package org.canonic.gateway.api;

import io.vertx.core.MultiMap;

import java.util.Locale;
import java.util.Set;

/** How requests appear in logs: headers with every credential masked, so a debug log never leaks a key. */
final class RequestLog {

    private static final Set<String> MASKED = Set.of("authorization", "proxy-authorization", "api-key", "x-api-key",
            "cookie", "set-cookie");

    private RequestLog() {
    }

    static String headers(MultiMap headers) {
        StringBuilder out = new StringBuilder("{");
        for (var header : headers) {
            if (out.length() > 1) {
                out.append(", ");
            }
            String name = header.getKey();
            out.append(name).append('=')
                    .append(MASKED.contains(name.toLowerCase(Locale.ROOT)) ? mask(header.getValue()) : header.getValue());
        }
        return out.append('}').toString();
    }

    /** Keeps the scheme word ("Bearer") so a reader can tell what kind of credential it was, nothing more. */
    private static String mask(String value) {
        int space = value.indexOf(' ');
        return (space > 0 && space < 16 ? value.substring(0, space + 1) : "") + "****";
    }
}

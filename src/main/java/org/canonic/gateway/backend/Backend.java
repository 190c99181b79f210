package org.canonic.gateway.backend;

import java.util.Optional;

/**
 * One upstream OpenAI-compatible server, as resolved from configuration at start-up.
 *
 * @param name           the configuration name; the only backend identity that reaches logs, headers and metrics
 * @param endpoint       where its API lives
 * @param model          model id substituted upstream for whatever name the client used
 * @param tries          attempts on this backend before moving to the next candidate
 * @param retryDelayMs   pause between two tries
 * @param clocks         the four per-attempt clocks
 * @param maxConnections most connections kept open to it
 */
public record Backend(String name, UpstreamEndpoint endpoint, String model, int tries, long retryDelayMs,
                      Clocks clocks, int maxConnections, Secret apiKey) {

    /** A credential that never prints itself. */
    public record Secret(String value) {
        @Override
        public String toString() {
            return "****";
        }
    }

    /** The {@code Authorization} header value to send upstream, if this backend has a key. */
    public Optional<String> authorization() {
        return apiKey == null ? Optional.empty() : Optional.of("Bearer " + apiKey.value());
    }

    @Override
    public String toString() {
        return "Backend[" + name + " " + endpoint.origin() + " model=" + model + "]";
    }
}

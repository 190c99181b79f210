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
 * @param maxConcurrency an explicit, fixed limit of requests in flight on it (streams count until their last byte);
 *                       0 lets the limit adapt to the backend
 * @param probe          how its health is probed
 * @param contextWindow  configured context window in tokens, 0 when unknown (probes may learn it)
 * @param tokensMax      the largest completion limit it accepts, 0 for no own ceiling
 * @param apiKey         the key sent upstream as a Bearer token, or null
 * @param loadSignals    whether its {@code /metrics} page is read for live load signals (vLLM's own queue)
 * @param pinnedCertificate the one certificate (PEM) its TLS server may present, or null for public CAs: a rented
 *                       machine serves with a certificate the gateway made for it, trusted alone (no CA, no host
 *                       name: the pin is the identity)
 */
public record Backend(String name, UpstreamEndpoint endpoint, String model, int tries, long retryDelayMs,
                      Clocks clocks, int maxConcurrency, ProbeKind probe, int contextWindow, int tokensMax,
                      Secret apiKey, boolean loadSignals, String pinnedCertificate) {

    /** A backend whose TLS, if any, is checked against public CAs. */
    public Backend(String name, UpstreamEndpoint endpoint, String model, int tries, long retryDelayMs, Clocks clocks,
                   int maxConcurrency, ProbeKind probe, int contextWindow, int tokensMax, Secret apiKey,
                   boolean loadSignals) {
        this(name, endpoint, model, tries, retryDelayMs, clocks, maxConcurrency, probe, contextWindow, tokensMax,
                apiKey, loadSignals, null);
    }

    /** How a backend's health is probed. */
    public enum ProbeKind {
        /** vLLM: {@code GET /health}, then {@code GET /v1/models} for the served id and {@code max_model_len}. */
        VLLM,
        /** An OpenAI-compatible API without {@code /health}: {@code GET /v1/models} only. */
        MODELS,
        /** A RunPod serverless endpoint: {@code GET /v2/<endpoint>/health} worker counts. */
        RUNPOD_SERVERLESS,
        /** Not probed: routed on passive signals (the circuit breaker) alone. */
        NONE
    }

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

package org.canonic.gateway.fleet;

import java.time.Duration;

/**
 * What configuration or an admin registration says about a backend, before it is checked. Unset values are null and
 * fall back to {@code gateway.defaults}. {@link BackendResolver} turns it into a backend, or into problems.
 *
 * @param name           the backend's name: the only identity that reaches logs, headers and metrics
 * @param baseUrl        its OpenAI base URL ({@code /v1} added when missing), or {@code simulator:}
 * @param model          the model id it serves
 * @param apiKey         where its upstream key comes from, or null for none
 * @param tries          attempts before moving to the next candidate
 * @param retryDelay     pause between two tries
 * @param connect        connect clock
 * @param firstToken     first-token clock
 * @param idle           idle clock
 * @param total          total clock
 * @param maxConcurrency most requests in flight
 * @param probe          how it is probed ({@code auto}, {@code vllm}, {@code models}, {@code runpod-serverless}, {@code none})
 * @param contextWindow  its context window in tokens until probes learn it
 * @param tokensMax      its own completion-limit ceiling
 * @param loadSignals    whether its {@code /metrics} is read for load signals (null: for vLLM-probed backends)
 */
public record BackendDefinition(String name, String baseUrl, String model, ApiKeyRef apiKey, Integer tries,
                                Duration retryDelay, Duration connect, Duration firstToken, Duration idle,
                                Duration total, Integer maxConcurrency, String probe, Integer contextWindow,
                                Integer tokensMax, Boolean loadSignals, String tlsCertificateFile) {

    /** A definition without a pinned certificate (the backend's TLS, if any, is checked against public CAs). */
    public BackendDefinition(String name, String baseUrl, String model, ApiKeyRef apiKey, Integer tries,
                             Duration retryDelay, Duration connect, Duration firstToken, Duration idle, Duration total,
                             Integer maxConcurrency, String probe, Integer contextWindow, Integer tokensMax,
                             Boolean loadSignals) {
        this(name, baseUrl, model, apiKey, tries, retryDelay, connect, firstToken, idle, total, maxConcurrency, probe,
                contextWindow, tokensMax, loadSignals, null);
    }
}

package org.canonic.gateway.ops;

import io.quarkus.runtime.annotations.RegisterForReflection;
import org.canonic.gateway.fleet.BackendLoad;
import org.canonic.gateway.fleet.BackendRegistration;
import org.canonic.gateway.fleet.FleetSnapshot;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.fleet.TtftModel;
import org.canonic.gateway.health.HealthSnapshot;
import org.canonic.gateway.signals.VllmSignals;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the admin API shows of one backend: where it comes from, its state, drain, load and window. Never a key: a
 * registered backend shows its key's reference ({@code env:NAME} or {@code file:/path}) only.
 *
 * @param name           the backend's name
 * @param source         {@code configured} or {@code registered}
 * @param origin         scheme, host and port of its API (no path, no key)
 * @param model          the model id it serves
 * @param routes         the routes it serves, in this snapshot (empty once it left the fleet)
 * @param probe          how it is probed
 * @param state          its probed state
 * @param reason         why it is in that state
 * @param breaker        its circuit breaker's state
 * @param drain          {@code NONE}, {@code DRAINING} or {@code DRAINED}
 * @param inFlight       requests in flight on it
 * @param maxConcurrency its in-flight limit now: its explicit maximum, or what its adaptive limit learned
 * @param concurrency    {@code adaptive} (the limit follows the backend's time to first token) or {@code fixed}
 * @param waiting        requests waiting for a slot on it (its queue depth)
 * @param maxModelLen    the window its probes learned (0 = unknown)
 * @param lastProbe      when it was last probed (null = never)
 * @param lastFault      the class of the last backend fault seen in traffic
 * @param apiKey         the reference its key is read from ({@code configured} for configured backends), or null
 * @param load           what routing reads of its load: its score, vLLM's own signals, its learned TTFT model
 */
@RegisterForReflection
public record BackendView(String name, String source, String origin, String model, List<String> routes, String probe,
                          String state, String reason, String breaker, String drain, int inFlight,
                          int maxConcurrency, String concurrency, int waiting, int maxModelLen, String lastProbe,
                          String lastFault, String apiKey, LoadView load) {

    /**
     * A backend's load as routing sees it.
     *
     * @param score        requests on or waiting for it: this gateway's in flight and queued plus outside traffic
     * @param outside      requests vLLM counted beyond this gateway's own at the last fresh read
     * @param signals      how the last read of its {@code /metrics} went ({@code OK}, {@code MISSING}, {@code SLOW},
     *                     {@code GARBAGE}, {@code FAILED}, {@code PENDING}), or {@code OFF} when it is not read
     * @param running      sequences in vLLM's batch at the last fresh read (null: none)
     * @param waiting      requests queued inside vLLM at the last fresh read (null: none)
     * @param kvCacheUsage share of vLLM's KV cache in use at the last fresh read (null: none)
     * @param prefixHitRatio vLLM's prefix-cache hit ratio between its last two reads (null: unknown)
     * @param ttftBaseMs   its learned TTFT with nothing to prefill
     * @param ttftMsPer1kTokens its learned TTFT per 1000 prompt tokens to prefill
     * @param ttftSamples  first tokens the model learned from
     * @param ttftP50Ms    the median of its last 64 first tokens as they came (null: none yet)
     */
    @RegisterForReflection
    public record LoadView(double score, int outside, String signals, Integer running, Integer waiting,
                           Double kvCacheUsage, Double prefixHitRatio, double ttftBaseMs, double ttftMsPer1kTokens,
                           int ttftSamples, Double ttftP50Ms) {

        static LoadView of(LiveBackend backend) {
            BackendLoad load = backend.load();
            VllmSignals signals = load.signals();
            TtftModel.Fit ttft = load.ttft();
            double hits = load.prefixHitRatio();
            double p50 = load.recentTtftMedianNanos();
            return new LoadView(load.score(), load.outside(),
                    backend.loadSignalsStatus() == null ? "OFF" : backend.loadSignalsStatus().name(),
                    signals == null ? null : signals.running(), signals == null ? null : signals.waiting(),
                    signals == null || Double.isNaN(signals.kvCacheUsage()) ? null : signals.kvCacheUsage(),
                    Double.isNaN(hits) ? null : hits, round(ttft.baseNanos() / 1e6),
                    round(ttft.nanosPerToken() * 1000 / 1e6), ttft.samples(),
                    Double.isNaN(p50) ? null : round(p50 / 1e6));
        }

        private static double round(double value) {
            return Math.round(value * 100) / 100.0;
        }
    }

    static BackendView of(LiveBackend backend, FleetSnapshot snapshot, Optional<BackendRegistration> registration) {
        HealthSnapshot health = backend.snapshot();
        List<String> routes = snapshot.backends().get(backend.name()) != backend ? List.of()
                : snapshot.routes().stream().filter(route -> route.backends().contains(backend))
                .map(org.canonic.gateway.fleet.Route::name).toList();
        String apiKey = registration.map(r -> r.definition().apiKey() == null ? null
                : r.definition().apiKey().describe())
                .orElse(backend.spec().apiKey() == null ? null : "configured");
        return new BackendView(backend.name(), backend.origin().name().toLowerCase(java.util.Locale.ROOT),
                backend.spec().endpoint().origin(), backend.spec().model(), routes, backend.spec().probe().name(),
                health.state().name(), health.reason(), backend.breakerState().name(), backend.drain().name(),
                backend.slots().inFlight(), backend.slots().limit(),
                backend.slots().adaptive() ? "adaptive" : "fixed", backend.slots().waiting(), health.maxModelLen(),
                health.lastProbeEpochMs() == 0 ? null : Instant.ofEpochMilli(health.lastProbeEpochMs()).toString(),
                backend.health().lastFaultClass(), apiKey, LoadView.of(backend));
    }
}

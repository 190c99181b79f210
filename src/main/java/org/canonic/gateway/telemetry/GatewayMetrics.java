package org.canonic.gateway.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The gateway's metrics. Names follow the OpenTelemetry GenAI semantic conventions where one exists
 * ({@code gen_ai.client.token.usage}, {@code gen_ai.client.operation.duration},
 * {@code gen_ai.server.time_to_first_token}, {@code gen_ai.server.time_per_output_token}); the rest are
 * {@code gateway.*}. Every label value comes from configuration (route and backend names) or a fixed set (outcomes,
 * states); nothing a client sends becomes a label, so cardinality stays bounded.
 */
public final class GatewayMetrics {

    static final String NONE = "none";

    private static final Duration[] DURATION_BUCKETS = seconds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300);
    private static final Duration[] TTFT_BUCKETS = seconds(0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);
    private static final Duration[] PER_TOKEN_BUCKETS = seconds(0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6);
    private static final double[] TOKEN_BUCKETS = {16, 64, 256, 1024, 4096, 16384, 65536};

    private final MeterRegistry registry;
    /** Meters per label combination, built once: registering a meter per request costs more than the request. */
    private final ConcurrentMap<List<String>, RequestMeters> requestMeters = new ConcurrentHashMap<>();
    private final ConcurrentMap<List<String>, Counter> counters = new ConcurrentHashMap<>();

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The meters of one (operation, route, backend, outcome). */
    private record RequestMeters(Counter requests, Timer duration, Timer timeToFirstToken, Timer timePerOutputToken,
                                 DistributionSummary inputTokens, DistributionSummary outputTokens) {
    }

    /**
     * Records a closed request: its durations, token usage, attempts and routing, and last the request itself, so
     * that once a scrape has seen the request counted, the next one sees all the rest of it too (a scrape can run
     * between two of these increments, and is not atomic itself). A traced request's duration and time to first
     * token carry its trace as an exemplar.
     */
    void record(RequestRecord record) {
        String route = orNone(record.route());
        RequestMeters meters = requestMeters.computeIfAbsent(List.of(orNone(record.operation()), route,
                orNone(record.backend()), record.outcome().label()), this::requestMeters);
        RequestTrace trace = record.trace();
        boolean exemplar = trace != null && TraceExemplars.observing(trace.spanContext());
        try {
            meters.duration().record(record.elapsedMs(), TimeUnit.MILLISECONDS);
            if (record.timeToFirstTokenMs() >= 0) {
                meters.timeToFirstToken().record((long) (record.timeToFirstTokenMs() * 1e6), TimeUnit.NANOSECONDS);
            }
        } finally {
            if (exemplar) {
                TraceExemplars.done();
            }
        }
        if (record.timePerOutputTokenMs() >= 0) {
            meters.timePerOutputToken().record((long) (record.timePerOutputTokenMs() * 1e6), TimeUnit.NANOSECONDS);
        }
        if (record.promptTokens() >= 0) {
            meters.inputTokens().record(record.promptTokens());
        }
        if (record.completionTokens() >= 0) {
            meters.outputTokens().record(record.completionTokens());
        }
        attempts(record.attempts(), route);
        routing(record, route);
        meters.requests().increment();
    }

    /**
     * Routing decisions by policy and reason, the prompt blocks the prefix index found cached against all blocks
     * routed (their ratio is the estimated prefix-cache hit ratio), and hedges by how they ended.
     */
    private void routing(RequestRecord record, String route) {
        if (record.policy() == null) {
            return;
        }
        counter(List.of("gateway.routing.decisions", route, record.policy(), record.reason()), key -> Counter
                .builder(key.get(0)).description("Routing decisions by policy and why the backend was chosen")
                .tags("route", key.get(1), "policy", key.get(2), "reason", key.get(3)).register(registry)).increment();
        if (record.promptBlocks() > 0) {
            counter(List.of("gateway.routing.prompt.blocks", route, "matched"), this::blocks)
                    .increment(record.matchedBlocks());
            counter(List.of("gateway.routing.prompt.blocks", route, "routed"), this::blocks)
                    .increment(record.promptBlocks());
        }
        if (record.hedged()) {
            hedge(route, "started");
            if (record.hedgeOutcome() != null) {
                hedge(route, record.hedgeOutcome());
            }
        }
    }

    private Counter blocks(List<String> key) {
        return Counter.builder("gateway.routing.prompt.blocks")
                .description("Prompt blocks routed, and of those the ones the route's index believed the chosen"
                        + " backend held (matched / routed = estimated prefix-cache hit ratio)")
                .tags("route", key.get(1), "kind", key.get(2)).register(registry);
    }

    private void hedge(String route, String event) {
        counter(List.of("gateway.hedges", route, event), key -> Counter.builder(key.get(0))
                .description("Hedged streams by event: started, won (the hedge answered first), cancelled (the"
                        + " first attempt did), failed")
                .tags("route", key.get(1), "event", key.get(2)).register(registry)).increment();
    }

    private RequestMeters requestMeters(List<String> key) {
        Tags tags = Tags.of("gen_ai.operation.name", key.get(0), "route", key.get(1), "backend", key.get(2));
        Tags withOutcome = tags.and("outcome", key.get(3));
        return new RequestMeters(
                Counter.builder("gateway.requests")
                        .description("Requests by route, backend and outcome")
                        .tags(withOutcome).register(registry),
                Timer.builder("gen_ai.client.operation.duration")
                        .description("Time from a request's arrival to its last byte")
                        .tags(withOutcome).serviceLevelObjectives(DURATION_BUCKETS).register(registry),
                Timer.builder("gen_ai.server.time_to_first_token")
                        .description("Time from a request's arrival to its first relayed token")
                        .tags(tags).serviceLevelObjectives(TTFT_BUCKETS).register(registry),
                Timer.builder("gen_ai.server.time_per_output_token")
                        .description("Mean gap between relayed tokens after the first (inter-token gap)")
                        .tags(tags).serviceLevelObjectives(PER_TOKEN_BUCKETS).register(registry),
                tokens("input", tags),
                tokens("output", tags));
    }

    private DistributionSummary tokens(String type, Tags tags) {
        return DistributionSummary.builder("gen_ai.client.token.usage")
                .description("Tokens per request, by type (input = prompt, output = completion)")
                .tags(tags.and("gen_ai.token.type", type))
                .serviceLevelObjectives(TOKEN_BUCKETS)
                .register(registry);
    }

    /** Attempts by outcome; a retry is a further try on the same backend, a fallback a move to another one. */
    private void attempts(List<AttemptRecord> attempts, String route) {
        String previous = null;
        for (AttemptRecord attempt : attempts) {
            String outcome = attempt.outcome().label();
            String fault = attempt.outcome().fault().label();
            counter(List.of("gateway.attempts", attempt.backend(), outcome, fault), key -> Counter.builder(key.get(0))
                    .description("Upstream attempts by backend, outcome and whose fault a failure was")
                    .tags("backend", key.get(1), "outcome", key.get(2), "fault", key.get(3))
                    .register(registry)).increment();
            if (attempt.hedge()) {
                // A hedge races the attempt before it; it is neither a retry nor a move to the next candidate.
                continue;
            }
            if (attempt.tryNumber() > 1) {
                counter(List.of("gateway.retries", attempt.backend()), key -> Counter.builder(key.get(0))
                        .description("Further tries on the same backend")
                        .tags("backend", key.get(1)).register(registry)).increment();
            } else if (previous != null) {
                counter(List.of("gateway.fallbacks", route, attempt.backend()), key -> Counter.builder(key.get(0))
                        .description("Moves to the next candidate backend")
                        .tags("route", key.get(1), "to", key.get(2)).register(registry)).increment();
            }
            previous = attempt.backend();
        }
    }

    private Counter counter(List<String> key, java.util.function.Function<List<String>, Counter> create) {
        return counters.computeIfAbsent(key, create);
    }

    /**
     * Gauges of one backend: its probed state and breaker state (1 for the current one), requests in flight, its
     * in-flight limit now (fixed or adaptive) and the requests waiting for a slot.
     */
    public List<Meter> backend(String name, List<String> states, Supplier<String> state, List<String> breakerStates,
                               Supplier<String> breaker, IntSupplier inFlight, IntSupplier limit,
                               IntSupplier waiting) {
        List<Meter> gauges = new ArrayList<>();
        for (String candidate : states) {
            gauges.add(Gauge.builder("gateway.backend.state", () -> candidate.equals(state.get()) ? 1 : 0)
                    .description("1 for the backend's current probed state")
                    .tags("backend", name, "state", candidate.toLowerCase(Locale.ROOT)).register(registry));
        }
        for (String candidate : breakerStates) {
            gauges.add(Gauge.builder("gateway.backend.breaker", () -> candidate.equals(breaker.get()) ? 1 : 0)
                    .description("1 for the backend's current circuit breaker state")
                    .tags("backend", name, "state", candidate.toLowerCase(Locale.ROOT)).register(registry));
        }
        gauges.add(Gauge.builder("gateway.backend.inflight", inFlight::getAsInt)
                .description("Requests in flight on the backend (a stream counts until its last byte)")
                .tags("backend", name).register(registry));
        gauges.add(Gauge.builder("gateway.backend.concurrency.limit", limit::getAsInt)
                .description("The backend's in-flight limit now: its max-concurrency, or what the adaptive limit learned")
                .tags("backend", name).register(registry));
        gauges.add(Gauge.builder("gateway.backend.queue.depth", waiting::getAsInt)
                .description("Requests waiting for a slot on the backend")
                .tags("backend", name).register(registry));
        return gauges;
    }

    /**
     * Gauges of what a vLLM backend says of itself on {@code /metrics} (NaN while it says nothing fresh): sequences
     * running and waiting in its engine, the share of its KV cache in use, and its prefix-cache hit ratio between the
     * last two reads.
     */
    public List<Meter> backendSignals(String name, DoubleSupplier running, DoubleSupplier waiting,
                                      DoubleSupplier kvCacheUsage, DoubleSupplier prefixHitRatio) {
        return List.of(
                Gauge.builder("gateway.backend.vllm.running", running, DoubleSupplier::getAsDouble).strongReference(true)
                        .description("Sequences running in the backend's engine (vllm:num_requests_running)")
                        .tags("backend", name).register(registry),
                Gauge.builder("gateway.backend.vllm.waiting", waiting, DoubleSupplier::getAsDouble).strongReference(true)
                        .description("Requests queued inside the backend's engine (vllm:num_requests_waiting)")
                        .tags("backend", name).register(registry),
                Gauge.builder("gateway.backend.vllm.kv.cache.usage", kvCacheUsage, DoubleSupplier::getAsDouble).strongReference(true)
                        .description("Share of the backend's KV-cache blocks in use (vllm:kv_cache_usage_perc)")
                        .tags("backend", name).register(registry),
                Gauge.builder("gateway.backend.vllm.prefix.cache.hit.ratio", prefixHitRatio, DoubleSupplier::getAsDouble).strongReference(true)
                        .description("Share of prompt tokens the backend found in its prefix cache, between reads")
                        .tags("backend", name).register(registry));
    }

    /** Gauges of a route's prefix index: the bytes its tables take (bounded by its ceiling) and the blocks it holds. */
    public void prefixIndex(String route, DoubleSupplier bytes, DoubleSupplier blocks) {
        Gauge.builder("gateway.routing.prefix.index.size", bytes, DoubleSupplier::getAsDouble).strongReference(true)
                .baseUnit(BaseUnits.BYTES).description("Bytes the route's prefix index takes")
                .tags("route", route).register(registry);
        Gauge.builder("gateway.routing.prefix.index.blocks", blocks, DoubleSupplier::getAsDouble).strongReference(true)
                .description("Prompt blocks the route's prefix index remembers")
                .tags("route", route).register(registry);
    }

    /** Removes meters of something that is gone (a deregistered backend's gauges). */
    public void remove(List<Meter> meters) {
        meters.forEach(registry::remove);
    }

    /**
     * Forgets every meter labelled with a deregistered backend, so that its series stop being exported and the
     * caches do not grow with every backend that ever existed. A backend registered again under the same name
     * starts from zero, as a restarted process would.
     */
    public void forgetBackend(String name) {
        requestMeters.keySet().removeIf(key -> key.get(2).equals(name));
        counters.keySet().removeIf(key -> key.contains(name));
        List<Meter> labelled = registry.getMeters().stream()
                .filter(meter -> name.equals(meter.getId().getTag("backend")) || name.equals(meter.getId().getTag("to")))
                .toList();
        labelled.forEach(registry::remove);
    }

    /** Gauges of the ledger: its queue and what it wrote or had to drop. */
    public void ledger(Ledger ledger) {
        Gauge.builder("gateway.ledger.queue.depth", ledger::queueDepth)
                .description("Records waiting for the ledger writer").register(registry);
        FunctionCounter.builder("gateway.ledger.dropped", ledger, Ledger::droppedQueueFull)
                .description("Records missing from the ledger: its queue was full, or its file could not be written")
                .tags("reason", "queue_full").register(registry);
        FunctionCounter.builder("gateway.ledger.dropped", ledger, Ledger::droppedUnwritten)
                .description("Records missing from the ledger: its queue was full, or its file could not be written")
                .tags("reason", "write_failed").register(registry);
        FunctionCounter.builder("gateway.ledger.reopened", ledger, Ledger::reopened)
                .description("Times the ledger file was found deleted or replaced while running and opened afresh")
                .register(registry);
        FunctionCounter.builder("gateway.ledger.written", ledger, Ledger::written)
                .description("Ledger lines that reached the file (without a file: the gateway.ledger log)")
                .register(registry);
    }

    /**
     * Gauges of the body budget (bytes held for request bodies, collected answers and queued answer writes, and its
     * limit) and the count of bodies refused because it was exhausted. {@code budget} is read through the functions
     * and must stay reachable elsewhere (meters hold it weakly).
     */
    public <T> void bodyBudget(T budget, long limit, ToDoubleFunction<T> used, ToDoubleFunction<T> refusedRequests,
                               ToDoubleFunction<T> refusedAnswers) {
        Gauge.builder("gateway.body.budget.used", budget, used).baseUnit(BaseUnits.BYTES)
                .description("Bytes held for bodies: requests, collected answers, answers waiting for slow clients")
                .register(registry);
        Gauge.builder("gateway.body.budget.limit", () -> limit).baseUnit(BaseUnits.BYTES)
                .description("The body budget (gateway.limits.body-budget)").register(registry);
        FunctionCounter.builder("gateway.body.budget.refusals", budget, refusedRequests)
                .description("Bodies refused because the body budget was exhausted")
                .tags("body", "request").register(registry);
        FunctionCounter.builder("gateway.body.budget.refusals", budget, refusedAnswers)
                .description("Bodies refused because the body budget was exhausted")
                .tags("body", "answer").register(registry);
    }

    private static String orNone(String value) {
        return value == null ? NONE : value;
    }

    private static Duration[] seconds(double... values) {
        Duration[] durations = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            durations[i] = Duration.ofNanos((long) (values[i] * 1e9));
        }
        return durations;
    }
}

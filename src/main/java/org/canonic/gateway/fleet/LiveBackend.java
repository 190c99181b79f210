package org.canonic.gateway.fleet;

import io.micrometer.core.instrument.Meter;
import io.vertx.core.http.HttpClient;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.BackendPool;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.health.BackendBreaker;
import org.canonic.gateway.health.BackendHealth;
import org.canonic.gateway.health.BackendState;
import org.canonic.gateway.health.BreakerState;
import org.canonic.gateway.health.HealthSnapshot;
import org.canonic.gateway.health.ProbeLoop;
import org.canonic.gateway.signals.LoadScraper;
import org.canonic.gateway.signals.VllmSignals;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One backend while it serves, and the single owner of everything that belongs to it: its spec, connection pool,
 * in-flight slots, health and probes, circuit breaker, gauges and drain state. It is opened and closed as one, so a
 * backend that leaves the fleet leaves no timer, connection or meter behind.
 *
 * <p>The spec may change while serving (limits, clocks, tries, key reference): requests read it when they start an
 * attempt, so requests in flight keep what they started with. What the pool and probes were built from (URL, model,
 * probe kind) cannot change; that takes a new backend.
 */
public final class LiveBackend {

    private static final Logger LOG = Logger.getLogger(LiveBackend.class);
    private static final List<String> STATES = Arrays.stream(BackendState.values()).map(Enum::name).toList();
    private static final List<String> BREAKER_STATES = Arrays.stream(BreakerState.values()).map(Enum::name)
            .toList();

    /** Where the backend comes from: configuration, or the admin API (kept in the state directory). */
    public enum Origin { CONFIGURED, REGISTERED }

    /** Whether it takes new requests. */
    public enum Drain { NONE, DRAINING, DRAINED }

    private volatile Backend spec;
    private final Origin origin;
    private final FleetServices services;
    private final BackendPool pool;
    private final BackendSlots slots;
    private final BackendHealth health;
    private final BackendBreaker breaker;
    private final ProbeLoop probes;
    private final TtftModel ttft;
    private final BackendLoad load;
    /** Reads vLLM's own queue and cache use from its /metrics; null when the backend has none. */
    private final LoadScraper scraper;
    private final List<Meter> gauges;
    /** Whether the meters labelled with this backend's name are still its own (see {@link #yieldMeters()}). */
    private final AtomicBoolean ownsMeters = new AtomicBoolean(true);
    /** How to end each attempt in flight at once, should a drain deadline pass. */
    private final Set<Runnable> active = ConcurrentHashMap.newKeySet();

    private volatile Drain drain = Drain.NONE;
    /** Why the backend is draining: what a request ended at the deadline is told. */
    private volatile String drainReason = "the backend was taken out of service (drained)";
    private long drainTimer = -1;
    private final List<Runnable> onDrained = new ArrayList<>();
    private volatile boolean closed;

    LiveBackend(Backend spec, Origin origin, FleetServices services) {
        this.spec = spec;
        this.origin = origin;
        this.services = services;
        this.pool = new BackendPool(services.vertx(), spec);
        GatewayConfig.AdaptiveConcurrency concurrency = services.concurrency();
        long scrapeMs = services.routing().loadSignals().interval().toMillis();
        long signalsFreshNanos = scrapeMs * 1_000_000L * Math.max(1, services.routing().loadSignals()
                .staleAfterIntervals());
        this.slots = new BackendSlots(spec.maxConcurrency(), new AdaptiveLimit(concurrency.initialLimit(),
                concurrency.minLimit(), concurrency.maxLimit(), signalsFreshNanos), services.replicaShare(),
                this::checkDrained);
        // Traffic answered within two probe intervals outweighs a probe that timed out (see BackendHealth.onProbe).
        this.health = new BackendHealth(spec, services.health().failuresToDown(), services.health().successesToUp(),
                services.breaker().delay().toMillis(), 2 * services.health().interval().toMillis());
        this.breaker = new BackendBreaker(health, services.breaker());
        this.health.listener(new HealthEvents());
        this.probes = spec.probe() == Backend.ProbeKind.NONE ? null
                : new ProbeLoop(services.vertx(), health, services.health());
        this.ttft = new TtftModel(services.routing().assumedPrefillRate(),
                services.routing().hedging().latePercentile());
        this.load = new BackendLoad(slots, ttft, signalsFreshNanos);
        this.scraper = !spec.loadSignals() ? null : new LoadScraper(services.vertx(), pool::client,
                spec.endpoint().rootPath("/metrics"), scrapeMs,
                services.routing().loadSignals().timeout().toMillis(), signals -> {
                    load.scraped(signals);
                    slots.vllmQueue(signals.waiting());
                });
        this.gauges = new ArrayList<>(services.metrics().backend(spec.name(), STATES,
                () -> health.snapshot().state().name(), BREAKER_STATES, () -> breaker.state().name(), slots::inFlight,
                slots::limit, slots::waiting));
        if (scraper != null) {
            gauges.addAll(services.metrics().backendSignals(spec.name(), () -> signal(VllmSignals::running),
                    () -> signal(VllmSignals::waiting), () -> signal(VllmSignals::kvCacheUsage),
                    load::prefixHitRatio));
            scraper.start();
        }
        if (probes != null) {
            probes.start();
        }
    }

    public String name() {
        return spec.name();
    }

    /** The spec requests read when they start an attempt. */
    public Backend spec() {
        return spec;
    }

    public Origin origin() {
        return origin;
    }

    /** The pooled HTTP client on the calling event loop. */
    public HttpClient client() {
        return pool.client();
    }

    public BackendSlots slots() {
        return slots;
    }

    public BackendHealth health() {
        return health;
    }

    /** Its load as routing reads it (no lock): this gateway's counts and vLLM's own, and its TTFT model. */
    public BackendLoad load() {
        return load;
    }

    /** How the last read of its {@code /metrics} went, or null when it is not read. */
    public LoadScraper.Status loadSignalsStatus() {
        return scraper == null ? null : scraper.status();
    }

    /**
     * An attempt that started at {@code startNanos}, with {@code prefillTokens} of prompt to prefill before it here (its
     * own uncached tokens and those queued before it), got its first token now (a non-stream answer: its whole
     * answer). A stream's TTFT teaches the backend's TTFT model; the adaptive limit gets the sample with the prefill
     * that model expects taken out, so that a long cold prompt is not read as congestion.
     */
    public void firstToken(long startNanos, long prefillTokens, boolean stream) {
        if (!stream) {
            slots.firstToken(startNanos, 0);
            return;
        }
        long expected = (long) ttft.fit().prefillNanos(prefillTokens);
        ttft.sample(prefillTokens, System.nanoTime() - startNanos);
        slots.firstToken(startNanos, expected);
    }

    /** A value of the last fresh reading of vLLM's metrics, NaN without one (read once: it may go stale meanwhile). */
    private double signal(java.util.function.ToDoubleFunction<VllmSignals> value) {
        VllmSignals signals = load.signals();
        return signals == null ? Double.NaN : value.applyAsDouble(signals);
    }

    /** Opens an attempt under the backend's circuit breaker. */
    public BackendBreaker.Handle startAttempt() {
        return breaker.started();
    }

    public Drain drain() {
        return drain;
    }

    /** Why it drains, in words a client can read (for requests its deadline ends). */
    public String drainReason() {
        return drainReason;
    }

    /** Whether a new request may be sent to it now: not draining, probes proved it, breaker not (or no longer) open. */
    public boolean routable() {
        return drain == Drain.NONE && health.routable();
    }

    /** Whether it takes new requests at all (a request that already holds a slot re-checks this). */
    public boolean accepting() {
        return drain == Drain.NONE && !closed;
    }

    /** Lower is preferred: healthy before degraded before cold. */
    public int preference() {
        return health.snapshot().state().preference();
    }

    /** A short, secret-free account of its state, for "nothing available" answers. */
    public String describe() {
        return drain == Drain.NONE ? health.describe() : spec.name() + " " + drain + " (taken out of service)";
    }

    /** Its context window: what its probes learned from {@code /v1/models}, else the configured one (0 = unknown). */
    public int window() {
        int learned = health.snapshot().maxModelLen();
        return learned > 0 ? learned : spec.contextWindow();
    }

    public HealthSnapshot snapshot() {
        return health.snapshot();
    }

    public BreakerState breakerState() {
        return breaker.state();
    }

    /** Closes the circuit breaker with an empty window. */
    public void resetBreaker() {
        breaker.reset();
    }

    /** Applies a changed spec (same name, URL, model and probe kind) to requests that start from now on. */
    void update(Backend changed) {
        this.spec = changed;
        slots.fixed(changed.maxConcurrency());
    }

    /**
     * Registers how to end an attempt in flight should the backend's drain deadline pass; the returned action
     * unregisters it (call it when the attempt ends).
     */
    public Runnable track(Runnable abort) {
        active.add(abort);
        return () -> active.remove(abort);
    }

    /**
     * Stops sending it new requests; those in flight run on. When the last one ends it is DRAINED and
     * {@code whenDrained} runs; after {@code deadlineMs} the ones still running are ended (streams with an error
     * event and {@code [DONE]}). Draining an already draining backend only adds {@code whenDrained}.
     */
    public void drain(long deadlineMs, Runnable whenDrained) {
        drain(deadlineMs, null, whenDrained);
    }

    /** As {@link #drain(long, Runnable)}, saying why (told to the requests a deadline ends), or null for a drain. */
    public void drain(long deadlineMs, String reason, Runnable whenDrained) {
        boolean started = false;
        synchronized (this) {
            if (drain == Drain.DRAINED) {
                runLater(whenDrained);
                return;
            }
            onDrained.add(whenDrained);
            if (drain == Drain.NONE) {
                drain = Drain.DRAINING;
                if (reason != null) {
                    drainReason = reason;
                }
                started = true;
                drainTimer = services.vertx().setTimer(Math.max(1, deadlineMs), id -> withdrawActive());
            }
        }
        if (started) {
            LOG.infof("Backend %s: draining (%d in flight, deadline %d ms)", spec.name(), slots.inFlight(), deadlineMs);
            services.events().publish("backend.drain_started", data("in_flight", slots.inFlight(),
                    "deadline_ms", deadlineMs));
        }
        checkDrained();
    }

    /** Puts a draining or drained backend back into service. Returns whether it was draining. */
    public boolean undrain() {
        synchronized (this) {
            if (drain == Drain.NONE) {
                return false;
            }
            drain = Drain.NONE;
            cancelDrainTimer();
            onDrained.clear();
        }
        LOG.infof("Backend %s: back in service", spec.name());
        return true;
    }

    private void checkDrained() {
        List<Runnable> callbacks;
        synchronized (this) {
            if (drain != Drain.DRAINING || slots.inFlight() > 0) {
                return;
            }
            drain = Drain.DRAINED;
            cancelDrainTimer();
            callbacks = new ArrayList<>(onDrained);
            onDrained.clear();
        }
        LOG.infof("Backend %s: drained", spec.name());
        services.events().publish("backend.drain_finished", data());
        callbacks.forEach(this::runLater);
    }

    private void withdrawActive() {
        synchronized (this) {
            drainTimer = -1;
        }
        if (drain == Drain.DRAINING) {
            LOG.warnf("Backend %s: drain deadline passed with %d request(s) in flight; ending them", spec.name(),
                    active.size());
            List.copyOf(active).forEach(Runnable::run);
        }
    }

    private void cancelDrainTimer() {
        if (drainTimer >= 0) {
            services.vertx().cancelTimer(drainTimer);
            drainTimer = -1;
        }
    }

    private void runLater(Runnable action) {
        services.vertx().runOnContext(v -> action.run());
    }

    /** Releases everything the backend holds: probes, pool, gauges. Only once nothing is in flight on it. */
    void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (this) {
            cancelDrainTimer();
        }
        if (probes != null) {
            probes.stop();
        }
        if (scraper != null) {
            scraper.stop();
        }
        pool.close();
        if (ownsMeters.compareAndSet(true, false)) {
            services.metrics().remove(gauges);
            services.metrics().forgetBackend(spec.name());
        }
    }

    /**
     * Gives the meters labelled with this backend's name to a successor of the same name, while this one drains
     * (another replica replaced it: a new URL, model or probe). Its gauges go now, so that the successor's register
     * (a meter registry keeps the first of two same-named gauges and ignores the second), and closing this one later
     * leaves the successor's meters alone. Its requests still in flight count under the name, as the successor's do.
     */
    void yieldMeters() {
        if (ownsMeters.compareAndSet(true, false)) {
            services.metrics().remove(gauges);
        }
    }

    boolean closed() {
        return closed;
    }

    private Map<String, Object> data(Object... keyValues) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("backend", spec.name());
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            data.put((String) keyValues[i], keyValues[i + 1]);
        }
        return data;
    }

    /** Turns probe and breaker changes into fleet events. */
    private final class HealthEvents implements BackendHealth.Listener {
        @Override
        public void stateChanged(BackendState from, BackendState to, String reason) {
            services.events().publish("backend.state_changed", data("from", from.name(), "to", to.name(),
                    "reason", reason));
        }

        @Override
        public void breakerChanged(BreakerState state) {
            if (state == BreakerState.OPEN) {
                services.events().publish("backend.breaker_opened", data());
            } else if (state == BreakerState.CLOSED) {
                services.events().publish("backend.breaker_closed", data());
            }
        }
    }
}

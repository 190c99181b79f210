package org.canonic.gateway.health;

import org.canonic.gateway.backend.Backend;
import org.jboss.logging.Logger;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * One backend's health: the probe state machine with hysteresis, plus the circuit breaker's state as reported by
 * the breaker itself. Probes write, routing reads; every state change is logged once, with its reason.
 *
 * <p>Transitions: PENDING becomes UP (or COLD) on its first good probe and DOWN after {@code failuresToDown} bad
 * ones. UP becomes DEGRADED on a failed probe and DOWN after {@code failuresToDown} in a row. DOWN needs
 * {@code successesToUp} good probes in a row to return. A model mismatch is DOWN at once: it is a configuration
 * fact, not a flake; so is a RunPod endpoint reporting only unhealthy or throttled workers.
 */
public final class BackendHealth {

    private static final Logger LOG = Logger.getLogger(BackendHealth.class);

    private final Backend backend;
    private final int failuresToDown;
    private final int successesToUp;
    private final long breakerDelayMs;
    private final AtomicReference<HealthSnapshot> snapshot;
    /** The breaker's live state; the breaker itself is the source of truth (an operator may reset it). */
    private volatile Supplier<BreakerState> breakerState = () -> BreakerState.CLOSED;
    private volatile long breakerOpenedAtMs;
    private volatile String lastFaultClass;
    private volatile Listener listener = Listener.NONE;
    private final long trafficTrustMs;
    /** When the backend last answered a request in full (epoch ms, 0 = never). */
    private volatile long lastTrafficSuccessMs;

    /** Told of every probed state change and every breaker state change (for webhooks); must not block. */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        default void stateChanged(BackendState from, BackendState to, String reason) {
        }

        default void breakerChanged(BreakerState state) {
        }
    }

    public BackendHealth(Backend backend, int failuresToDown, int successesToUp, long breakerDelayMs) {
        this(backend, failuresToDown, successesToUp, breakerDelayMs, 0);
    }

    /**
     * @param trafficTrustMs how recent a request the backend answered in full must be for it to outweigh a probe that
     *                       timed out (0: probes alone decide)
     */
    public BackendHealth(Backend backend, int failuresToDown, int successesToUp, long breakerDelayMs,
                         long trafficTrustMs) {
        this.backend = backend;
        this.trafficTrustMs = trafficTrustMs;
        this.failuresToDown = failuresToDown;
        this.successesToUp = successesToUp;
        this.breakerDelayMs = breakerDelayMs;
        this.snapshot = new AtomicReference<>(backend.probe() == Backend.ProbeKind.NONE
                ? HealthSnapshot.unprobed()
                : HealthSnapshot.pending());
    }

    public Backend backend() {
        return backend;
    }

    public void listener(Listener listener) {
        this.listener = listener;
    }

    public HealthSnapshot snapshot() {
        return snapshot.get();
    }

    public BreakerState breakerState() {
        return breakerState.get();
    }

    /** Connects the backend's circuit breaker, whose live state routing then reads. */
    void attachBreaker(Supplier<BreakerState> state) {
        this.breakerState = state;
    }

    public String lastFaultClass() {
        return lastFaultClass;
    }

    /**
     * Whether routing may send this backend a request now. An open breaker keeps it out until its delay has passed;
     * then one request is let through as the half-open trial (the breaker only half-opens when a call arrives).
     */
    public boolean routable() {
        if (!snapshot.get().state().routable()) {
            return false;
        }
        return breakerState.get() != BreakerState.OPEN
                || System.currentTimeMillis() - breakerOpenedAtMs >= breakerDelayMs;
    }

    /** Why the backend is not routable, for "no backend available" answers and the admin view. */
    public String describe() {
        HealthSnapshot now = snapshot.get();
        BreakerState breakerNow = breakerState.get();
        String breaker = breakerNow == BreakerState.CLOSED ? "" : ", breaker " + breakerNow;
        return backend.name() + " " + now.state() + " (" + now.reason() + breaker + ")";
    }

    /** A request this backend answered in full: proof, from real traffic, that it is alive. */
    public void onTrafficSuccess() {
        lastTrafficSuccessMs = System.currentTimeMillis();
    }

    /** Applies one probe result. */
    public void onProbe(ProbeResult result) {
        if (result.isTimeout() && System.currentTimeMillis() - lastTrafficSuccessMs < trafficTrustMs) {
            // A probe that got no answer while real requests are being answered says more about this gateway being
            // busy (its own event loops saturated) than about the backend: it does not count. An explicit bad answer
            // (a 503 from /health, a wrong model) always counts.
            LOG.debugf("Backend %s: probe timed out while traffic succeeds; not counted", backend.name());
            return;
        }
        HealthSnapshot before;
        HealthSnapshot after;
        do {
            before = snapshot.get();
            after = next(before, result, System.currentTimeMillis());
        } while (!snapshot.compareAndSet(before, after));
        if (before.state() != after.state()) {
            LOG.infof("Backend %s: %s -> %s (%s)", backend.name(), before.state(), after.state(), after.reason());
            listener.stateChanged(before.state(), after.state(), after.reason());
        }
    }

    /** Called by the backend's circuit breaker on every state change it makes. */
    public void onBreakerState(BreakerState state) {
        if (state == BreakerState.OPEN) {
            breakerOpenedAtMs = System.currentTimeMillis();
        }
        LOG.infof("Backend %s: circuit breaker %s", backend.name(), state);
        listener.breakerChanged(state);
    }

    /** Remembers the class of the last backend fault seen in traffic (for the admin view). */
    public void onFault(String faultClass) {
        lastFaultClass = faultClass;
    }

    HealthSnapshot next(HealthSnapshot now, ProbeResult result, long atMs) {
        int window = result.maxModelLen() > 0 ? result.maxModelLen() : now.maxModelLen();
        switch (result.verdict()) {
            case DOWN:
                return new HealthSnapshot(BackendState.DOWN, result.reason(), atMs, window,
                        now.consecutiveFailures() + 1, 0);
            case FAILED: {
                int failures = now.consecutiveFailures() + 1;
                BackendState state;
                if (failures >= failuresToDown || now.state() == BackendState.DOWN) {
                    state = BackendState.DOWN;
                } else if (now.state() == BackendState.PENDING) {
                    state = BackendState.PENDING;
                } else {
                    state = BackendState.DEGRADED;
                }
                return new HealthSnapshot(state, result.reason(), atMs, window, failures, 0);
            }
            default: {
                int successes = now.consecutiveSuccesses() + 1;
                BackendState healthy = result.verdict() == ProbeResult.Verdict.COLD ? BackendState.COLD : BackendState.UP;
                if (now.state() == BackendState.DOWN && successes < successesToUp) {
                    return new HealthSnapshot(BackendState.DOWN, "recovering: " + successes + " of " + successesToUp
                            + " good probes", atMs, window, 0, successes);
                }
                return new HealthSnapshot(healthy, result.reason(), atMs, window, 0, successes);
            }
        }
    }
}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.fleet.FleetException;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.state.Replicas;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The timers off the request path: polls waiting instances until they run with port 8000 mapped, registers them
 * with the fleet (PENDING until probes pass), marks them ready, enforces the readiness deadline, stops idle ones
 * that asked for it, looks up launches whose create was ambiguous ({@link CreateLookup}), re-reads serving and
 * stopped ones and finishes actions a restart interrupted ({@link ServingWatch}), and reconciles the providers'
 * lists ({@link LeakWatch}: reports, never touches). Each tick runs as a blocking task and never overlaps itself.
 * With several replicas only the leader ({@link Replicas}) runs them: two watches would each stop the same idle
 * machine or fail the same late one.
 */
@Startup
@Singleton
public class ComputeWatch {

    private static final Logger LOG = Logger.getLogger(ComputeWatch.class);
    static final String SYSTEM = "gateway";

    private final ComputeService s;
    private final Vertx vertx;
    private final Replicas replicas;
    private final AtomicBoolean polling = new AtomicBoolean();
    private final AtomicBoolean reconciling = new AtomicBoolean();
    private final LeakWatch leaks;
    private final ServingWatch serving;
    private long pollTimer = -1;
    private long leakTimer = -1;

    @Inject
    public ComputeWatch(ComputeService service, Vertx vertx, MeterRegistry registry, Replicas replicas) {
        this.s = service;
        this.vertx = vertx;
        this.replicas = replicas;
        this.leaks = new LeakWatch(service, registry);
        this.serving = new ServingWatch(service, registry);
        // Followers only read the shared record on this timer (instance keys and registrations follow from it).
        pollTimer = vertx.setPeriodic(service.config.pollInterval().toMillis(), id -> run(polling,
                () -> replicas.leader(), this::poll, s::all));
        long leakMs = service.config.leakWatchInterval().toMillis();
        if (leakMs > 0) {
            leakTimer = vertx.setPeriodic(leakMs, id -> run(reconciling, () -> replicas.leader(), this::reconcile,
                    () -> { }));
        }
    }

    void stop(@Observes ShutdownEvent event) {
        vertx.cancelTimer(pollTimer);
        vertx.cancelTimer(leakTimer);
    }

    /** Runs {@code task} on the leader, {@code otherwise} elsewhere, as a blocking task that never overlaps itself. */
    private void run(AtomicBoolean flag, java.util.function.BooleanSupplier leads, Runnable task, Runnable otherwise) {
        if (!flag.compareAndSet(false, true)) {
            return;
        }
        vertx.executeBlocking(() -> {
            try {
                (leads.getAsBoolean() ? task : otherwise).run();
            } catch (RuntimeException e) {
                LOG.errorf("Compute watch: %s", e.toString());
            } finally {
                flag.set(false);
            }
            return null;
        }, false);
    }

    /** One pass over the instances: waiting, looked up, serving, stopped, or with an action to finish. */
    void poll() {
        for (TrackedInstance t : s.all()) {
            if (t.interruptedAction != null) {
                s.handover().exclusively(() -> {
                    serving.finishInterrupted(t);
                });
            } else if (t.state() == TrackedInstance.State.WAITING) {
                s.handover().exclusively(() -> {
                    if (t.state() == TrackedInstance.State.WAITING) {
                        waitFor(t);
                    }
                });
            } else if (t.state() == TrackedInstance.State.PROVISIONING && t.lookupUntilMs > 0) {
                s.handover().exclusively(() -> {
                    s.lookup.lookAgain(t);
                });
            } else if (t.state() == TrackedInstance.State.FAILED && t.cleanupPending != null) {
                s.handover().exclusively(() -> {
                    serving.retryCleanup(t);
                });
            } else if (t.state() == TrackedInstance.State.READY || t.state() == TrackedInstance.State.STOPPED) {
                s.handover().exclusively(() -> {
                    serving.recheck(t);
                });
                if (t.state() == TrackedInstance.State.READY && t.idleStopMinutes() != null) {
                    idleCheck(t);
                }
            }
        }
    }

    private void waitFor(TrackedInstance t) {
        ComputeProvider p = s.provider(t.provider());
        long now = s.clock.millis();
        try {
            Optional<InstanceInfo> info = p.get(t.providerId());
            if (info.isEmpty()) {
                fail(t, p.name() + " says the instance is gone", false);
                return;
            }
            InstanceInfo i = info.get();
            s.states.observed(t, i, true);
            if (i.status() == InstanceInfo.Status.FAILED) {
                fail(t, p.name() + " reports a failure: " + i.providerStatus()
                        + (i.message() == null ? "" : " (" + i.message() + ")"), true);
                return;
            }
            if (i.status() == InstanceInfo.Status.RUNNING && i.baseUrl() != null) {
                String baseUrl = served(t, i.baseUrl());
                if (t.endpoint != null && !t.endpoint.equals(baseUrl) && s.fleet.find(t.name()).isPresent()) {
                    // The mapping moved (a restart): the old registration points nowhere.
                    s.handover().releaseBackend(t, true, 1000, null);
                }
                if (s.fleet.find(t.name()).isEmpty()) {
                    register(t, baseUrl);
                }
                if (s.fleet.find(t.name()).map(LiveBackend::routable).orElse(false)) {
                    ready(t, p);
                    return;
                }
            }
        } catch (ComputeException e) {
            s.states.note(t, "provider error while polling: " + e.getMessage());
        }
        if (now > t.readinessDeadlineMs && t.state() == TrackedInstance.State.WAITING) {
            fail(t, "not serving by its readiness deadline (" + Instant.ofEpochMilli(t.readinessDeadlineMs)
                    + "); provider status: " + t.providerStatus + (t.message == null ? "" : ", message: "
                    + t.message), true);
        }
    }

    /** The URL the instance serves on: https when it was launched with its own TLS identity. */
    private String served(TrackedInstance t, String providerUrl) {
        return s.keys.certificate(t.name()).isPresent() && providerUrl.startsWith("http://")
                ? "https://" + providerUrl.substring("http://".length()) : providerUrl;
    }

    private void register(TrackedInstance t, String baseUrl) {
        Recipe recipe = s.recipes.find(t.recipe()).orElseThrow();
        ObjectNode body = s.mapper.createObjectNode();
        body.put("name", t.name());
        body.put("base_url", baseUrl + "/v1");
        body.put("model", recipe.model());
        ArrayNode routes = body.putArray("routes");
        if (recipe.position() == null) {
            routes.add(recipe.route());
        } else {
            routes.addObject().put("route", recipe.route()).put("position", recipe.position());
        }
        body.put("api_key_file", s.keys.path(t.name()).toString());
        // Its own certificate, trusted alone: no CA, and nobody on the path can pose as the machine.
        s.keys.certificate(t.name()).ifPresent(file -> body.put("tls_certificate_file", file.toString()));
        if (s.keys.read(t.name()).isEmpty()) {
            // Launched on another replica and its key not readable yet (the shared store is away): wait, never
            // destroy a machine for that; the readiness deadline still applies.
            s.states.note(t, "waiting for the instance key from the shared state store");
            return;
        }
        try {
            s.fleet.register(body, null);
            s.states.registered(t, baseUrl);
            LOG.infof("Compute: %s registered as a backend of route %s at %s", t.name(), recipe.route(), baseUrl);
        } catch (FleetException e) {
            fail(t, "could not be registered with the fleet: " + e.getMessage(), true);
        }
    }

    private void ready(TrackedInstance t, ComputeProvider p) {
        if (p.capabilities().stopLock()) {
            try {
                // Belt and braces for the anti-stop guard: the provider refuses a stop while it serves.
                p.lock(t.providerId(), true);
            } catch (ComputeException e) {
                LOG.warnf("Compute: could not lock pod %s: %s", t.providerId(), e.getMessage());
            }
        }
        long launchedMs = s.states.ready(t);
        if (launchedMs > 0) {
            s.readinessTimes.record(t.recipe(), t.provider(), launchedMs);
        }
        ObjectNode line = s.tracked.record(SYSTEM, t, "ready", null);
        line.put("endpoint", t.endpoint);
        s.tracked.append(line, "ok", null, TrackedInstance.State.READY);
        s.event(EventTypes.COMPUTE_READY, t, null, "backend", t.name(), "endpoint", t.endpoint);
        LOG.infof("Compute: %s is serving", t.name());
    }

    /** Marks it failed and, if it still exists, stops or destroys it as configured. */
    private void fail(TrackedInstance t, String reason, boolean exists) {
        String policy = s.config.onReadinessFailure().strip().toLowerCase(Locale.ROOT);
        s.states.failure(t, reason);
        ObjectNode line = s.tracked.record(SYSTEM, t, "failed", null);
        line.put("failure", reason);
        s.tracked.append(line, "ok", null, TrackedInstance.State.FAILED);
        s.states.move(t, TrackedInstance.State.FAILED);
        String taken = "none";
        try {
            if (!exists) {
                s.handover().releaseBackend(t, true, 1000, null);
                s.handover().destroyNow(t, true, 1000, SYSTEM, null, reason);
                taken = "forgotten (gone)";
            } else if (policy.equals("stop")) {
                s.handover().stopNow(t, true, 1000, SYSTEM, null, reason);
                taken = "stopped";
            } else {
                s.handover().destroyNow(t, true, 1000, SYSTEM, null, reason);
                taken = "destroyed";
            }
        } catch (ComputeException e) {
            taken = "action failed (tried again on the next poll): " + e.getMessage();
            serving.pending(t, exists && policy.equals("stop") ? "stop" : "destroy", e);
        }
        LOG.warnf("Compute: %s failed (%s); %s", t.name(), reason, taken);
        s.event(EventTypes.COMPUTE_FAILED, t, null, "reason", reason, "action", taken, "provider_status", t.providerStatus);
    }

    private void idleCheck(TrackedInstance t) {
        Optional<LiveBackend> live = s.fleet.find(t.name());
        if (live.isEmpty() || live.get().slots().inFlight() > 0) {
            return;
        }
        long last = Math.max(live.get().slots().lastReleaseMs(), t.readyAtMs);
        if (System.currentTimeMillis() - last < t.idleStopMinutes() * 60_000L) {
            return;
        }
        s.handover().exclusively(() -> {
            try {
                // Through the same guard: not forced, so recent traffic keeps it running.
                s.handover().stopNow(t, false, 1000, SYSTEM, null, "idle for " + t.idleStopMinutes() + " min");
            } catch (ComputeException e) {
                LOG.infof("Compute: idle stop of %s did not happen: %s", t.name(), e.getMessage());
            }
        });
    }

    /** Lists every configured provider and compares with what is tracked; reports, never touches. */
    public ObjectNode reconcile() {
        return leaks.reconcile();
    }

    /** The last leak report, or null before the first. */
    public ObjectNode lastLeakReport() {
        return leaks.lastReport();
    }
}

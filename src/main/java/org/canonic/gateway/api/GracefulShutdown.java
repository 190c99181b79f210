package org.canonic.gateway.api;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.telemetry.Telemetry;
import org.jboss.logging.Logger;

import java.util.Collection;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Stops the gateway without cutting what it serves. On SIGTERM (a deploy, a pod eviction): readiness turns DOWN at
 * once and new proxied requests get 503 with {@code Retry-After} and {@code Connection: close}, so the tunnel or load
 * balancer moves them to another replica; every backend drains, so the requests in flight (streams included) run to
 * their end, up to the drain deadline ({@code GATEWAY_DRAIN_DEADLINE}, 30 s); streams still open then end with an
 * error event and {@code [DONE]}, never a silent cut. Then the ledger is flushed (as the beans close) and the process
 * exits 0. A second SIGTERM stops at once: the ledger writes what it holds and a {@code terminated} record for each
 * request still in flight (within 2 s, 3 s at most), then the process halts.
 *
 * <p>The drain runs on the signal's own thread before Quarkus is asked to stop: Quarkus closes the HTTP server (and
 * every open connection) before its {@link ShutdownEvent}, so waiting there would be too late. The event loops keep
 * serving the streams while that thread waits.
 */
@Singleton
public class GracefulShutdown {

    private static final Logger LOG = Logger.getLogger(GracefulShutdown.class);
    /** Time for the streams ended at the deadline to write their error event before the server closes. */
    private static final long FINAL_WRITE_MS = 500;

    @Inject
    Fleet fleet;

    @Inject
    GatewayConfig config;

    @Inject
    Telemetry telemetry;

    /** How long a halt waits for the ledger to write what it holds. */
    static final long HALT_FLUSH_MS = 2_000;
    /** A halt happens within this, whatever the ledger does. */
    static final long HALT_BOUND_MS = 3_000;

    private volatile boolean closing;
    private final AtomicInteger terms = new AtomicInteger();

    /** Whether the gateway is stopping: no new proxied request is taken. */
    public boolean closing() {
        return closing;
    }

    /**
     * SIGTERM asks for a graceful stop that exits 0 (the JVM's default would exit 143, which orchestrators report as
     * a failure); a second one stops at once. Where the platform has no signal API, the JVM's default stands.
     */
    void installSignalHandler(@Observes StartupEvent event) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> {
                if (terms.incrementAndGet() == 1) {
                    LOG.info("SIGTERM: stopping gracefully (a second SIGTERM stops at once)");
                    drain();
                    Quarkus.asyncExit(0);
                } else {
                    halt();
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            LOG.debugf("No SIGTERM handler (%s): the JVM's default shutdown applies", e.toString());
        }
    }

    /**
     * The second SIGTERM: stop now, but not blind. Every request still in flight gets a {@code terminated} ledger
     * record and the ledger writes what it holds (records of requests that had finished but waited in its queue were
     * lost before), within {@link #HALT_FLUSH_MS}; a watchdog halts regardless once {@link #HALT_BOUND_MS} passed, so
     * a stuck disk cannot hold the process.
     */
    private void halt() {
        LOG.warnf("Second SIGTERM: stopping now (the ledger is written first, for at most %d ms)", HALT_FLUSH_MS);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(HALT_BOUND_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(0);
        }, "gateway-halt-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        try {
            int terminated = telemetry.halt(HALT_FLUSH_MS);
            LOG.warnf("Halting: %d request(s) in flight recorded as terminated", terminated);
        } finally {
            Runtime.getRuntime().halt(0);
        }
    }

    /** However the stop began, take no new request from here on. */
    void stopping(@Observes @Priority(1) ShutdownEvent event) {
        closing = true;
    }

    /** Takes no new request, lets every backend drain, and returns once they did or the deadline passed. */
    void drain() {
        closing = true;
        long deadlineMs = config.drainDeadline().toMillis();
        Collection<LiveBackend> backends = fleet.snapshot().backends().values();
        int inFlight = backends.stream().mapToInt(b -> b.slots().inFlight()).sum();
        LOG.infof("Stopping: taking no new requests; %d in flight may run for up to %d ms", inFlight, deadlineMs);
        CountDownLatch drained = new CountDownLatch(backends.size());
        for (LiveBackend backend : backends) {
            backend.drain(deadlineMs, "the gateway is shutting down", drained::countDown);
        }
        try {
            if (!drained.await(deadlineMs + FINAL_WRITE_MS, TimeUnit.MILLISECONDS)) {
                LOG.warnf("Stopping: the drain deadline passed; ending what is left");
                // Let the error events of requests ended at the deadline reach their clients.
                Thread.sleep(FINAL_WRITE_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("Stopping: drained");
    }
}

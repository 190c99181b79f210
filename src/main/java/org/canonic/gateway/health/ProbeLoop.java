package org.canonic.gateway.health;

import io.vertx.core.Vertx;
import org.canonic.gateway.config.OperationsConfig;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Probes one backend on a schedule, off the request path: the first probe at once, then one per interval (jittered
 * by up to 10% so the probes of many backends do not align). The next probe is scheduled only when the current one
 * finished, so probes never pile up on a slow backend. Stopping cancels the pending timer and ignores a probe still
 * in flight, so a deregistered backend leaves no timer behind.
 */
public final class ProbeLoop {

    private final Vertx vertx;
    private final BackendProbe probe;
    private final BackendHealth target;
    private final long intervalMs;
    private volatile boolean stopped;
    private volatile long timer = -1;

    public ProbeLoop(Vertx vertx, BackendHealth target, OperationsConfig.Health config) {
        this.vertx = vertx;
        this.target = target;
        this.intervalMs = config.interval().toMillis();
        this.probe = new BackendProbe(target.backend(), config.timeout());
    }

    public void start() {
        run();
    }

    public void stop() {
        stopped = true;
        long pending = timer;
        if (pending >= 0) {
            vertx.cancelTimer(pending);
        }
        probe.close();
    }

    private void run() {
        timer = -1;
        if (stopped) {
            return;
        }
        probe.probe().subscribe().with(result -> {
            if (!stopped) {
                target.onProbe(result);
            }
            scheduleNext();
        }, failure -> {
            if (!stopped) {
                target.onProbe(ProbeResult.failed("probe failed (" + failure.getClass().getSimpleName() + ")"));
            }
            scheduleNext();
        });
    }

    private void scheduleNext() {
        if (stopped) {
            return;
        }
        long spread = intervalMs / 10;
        long jitter = spread == 0 ? 0 : ThreadLocalRandom.current().nextLong(-spread, spread + 1);
        timer = vertx.setTimer(Math.max(1, intervalMs + jitter), id -> run());
    }
}

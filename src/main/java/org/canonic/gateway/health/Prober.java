package org.canonic.gateway.health;

import io.vertx.core.Vertx;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.config.GatewayConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Runs every backend's probes on a schedule, off the request path: the first at start-up, then one per interval
 * (jittered by up to 10% so probes of many backends do not align). A backend's next probe is scheduled only when its
 * current one finished, so probes never pile up on a slow backend.
 */
public final class Prober {

    private final Vertx vertx;
    private final long intervalMs;
    private final List<BackendProbe> probes = new ArrayList<>();
    private final List<BackendHealth> targets = new ArrayList<>();
    private volatile boolean stopped;

    public Prober(Vertx vertx, HealthRegistry health, GatewayConfig.Health config) {
        this.vertx = vertx;
        this.intervalMs = config.interval().toMillis();
        for (BackendHealth backend : health.all()) {
            if (backend.backend().probe() != Backend.ProbeKind.NONE) {
                probes.add(new BackendProbe(backend.backend(), config.timeout()));
                targets.add(backend);
            }
        }
    }

    public void start() {
        for (int i = 0; i < probes.size(); i++) {
            run(probes.get(i), targets.get(i));
        }
    }

    public void stop() {
        stopped = true;
    }

    private void run(BackendProbe probe, BackendHealth target) {
        if (stopped) {
            return;
        }
        probe.probe().subscribe().with(result -> {
            target.onProbe(result);
            scheduleNext(probe, target);
        }, failure -> {
            target.onProbe(ProbeResult.failed("probe failed (" + failure.getClass().getSimpleName() + ")"));
            scheduleNext(probe, target);
        });
    }

    private void scheduleNext(BackendProbe probe, BackendHealth target) {
        if (stopped) {
            return;
        }
        long jitter = intervalMs / 10 == 0 ? 0 : ThreadLocalRandom.current().nextLong(-intervalMs / 10, intervalMs / 10 + 1);
        vertx.setTimer(Math.max(1, intervalMs + jitter), id -> run(probe, target));
    }
}

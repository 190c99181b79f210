package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.arc.Arc;
import io.vertx.core.Vertx;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.coordination.Webhooks;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.state.Replicas;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.ConfigFixture;
import org.canonic.gateway.testing.FakeBackends;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A governed-compute service of its own inside the running test gateway: its own state directory and settings, the
 * gateway's fleet and webhooks, the fake provider APIs over loopback HTTP. Its watch has no timers that matter
 * (an hour apart): tests call {@link ComputeWatch#poll()} and {@link ComputeWatch#reconcile()} themselves. A restart
 * is a new harness on the same directory: what was in memory is gone, what was written stays.
 */
public final class ComputeHarness implements AutoCloseable {

    final Path dir;
    final String[] settings;
    public final ComputeService service;
    final ComputeWatch watch;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private ComputeHarness(Path dir, String... settings) {
        this(dir, null, null, settings);
    }

    /** With {@code store} (a replica's Redis store) and {@code stateKeyFile} instead of the gateway's own. */
    private ComputeHarness(Path dir, StateStore store, Path stateKeyFile, String... settings) {
        this.dir = dir;
        this.settings = settings;
        Path keys = FakeBackends.ledger().getParent();
        List<String> all = new ArrayList<>(List.of(
                "gateway.compute.vastai.api-url", FakeBackends.vastai().url(),
                "gateway.compute.vastai.api-key-file", keys.resolve("vastai.key").toString(),
                "gateway.compute.runpod.api-url", FakeBackends.runpod().url(),
                "gateway.compute.runpod.api-key-file", keys.resolve("runpod.key").toString(),
                "gateway.compute.runpod-proxy-url-template", "http://127.0.0.1:{id}",
                "gateway.compute.poll-interval", "1h",
                "gateway.compute.instance-tls", "false",
                "gateway.compute.leak-watch-interval", "0",
                "gateway.compute.confirm-delay", "50ms",
                "gateway.compute.provider-timeout", "2s",
                "gateway.compute.provider-max-retry-after", "1s",
                "gateway.compute.recipes.main.model", FakeBackends.COMPUTE_MODEL,
                "gateway.compute.recipes.main.position", "0"));
        all.addAll(List.of(settings));
        GatewayConfig config = ConfigFixture.with(all.toArray(String[]::new)).build();
        var arc = Arc.container();
        org.canonic.gateway.state.StateStoreConfig stateConfig = arc.instance(
                org.canonic.gateway.state.StateStoreConfig.class).get();
        this.service = new ComputeService(config, new StateDirectory(dir), arc.instance(Fleet.class).get(),
                arc.instance(Webhooks.class).get(), arc.instance(ObjectMapper.class).get(),
                store != null ? store : arc.instance(StateStore.class).get(),
                store != null ? sealedWith(stateConfig, stateKeyFile) : stateConfig);
        this.watch = new ComputeWatch(service, arc.instance(Vertx.class).get(), registry,
                arc.instance(Replicas.class).get());
    }

    /** A service on {@code dir} with {@code settings} ({@code gateway.compute.*} key, value, ...) over the defaults. */
    public static ComputeHarness start(Path dir, String... settings) {
        return new ComputeHarness(dir, settings);
    }

    /**
     * A replica's service sharing state through {@code store} (Redis): instance keys sealed with {@code stateKeyFile}
     * (32+ bytes, the same on every replica), the tracked stream and the spend ledger shared.
     */
    public static ComputeHarness shared(Path dir, StateStore store, Path stateKeyFile, String... settings) {
        return new ComputeHarness(dir, store, stateKeyFile, settings);
    }

    private static org.canonic.gateway.state.StateStoreConfig sealedWith(
            org.canonic.gateway.state.StateStoreConfig base, Path keyFile) {
        return new org.canonic.gateway.state.StateStoreConfig() {
            @Override
            public Kind store() {
                return Kind.REDIS;
            }

            @Override
            public java.util.Optional<String> keyFile() {
                return java.util.Optional.of(keyFile.toString());
            }

            @Override
            public java.time.Duration redisTimeout() {
                return base.redisTimeout();
            }

            @Override
            public java.time.Duration leaderTtl() {
                return base.leaderTtl();
            }

            @Override
            public String redisKeyPrefix() {
                return base.redisKeyPrefix();
            }

            @Override
            public java.util.Optional<String> replicaId() {
                return base.replicaId();
            }

            @Override
            public long streamMaxLength() {
                return base.streamMaxLength();
            }
        };
    }

    /** This service stopped and a new one started on the same directory with the same settings. */
    ComputeHarness restart() {
        close();
        return new ComputeHarness(dir, settings);
    }

    /** Today's committed spend in cents, as the spend view shows it. */
    public long committedCents() {
        return CostGuard.cents(service.spend().path("committed_today_usd").asDouble());
    }

    /** Polls the watch until {@code t} is in {@code state} or {@code ms} have passed, then asserts that it is. */
    public void awaitState(TrackedInstance t, TrackedInstance.State state, long ms) throws InterruptedException {
        long until = System.currentTimeMillis() + ms;
        while (t.state() != state && System.currentTimeMillis() < until) {
            watch.poll();
            Thread.sleep(100);
        }
        org.junit.jupiter.api.Assertions.assertEquals(state, t.state(), "failure: " + t.failure + ", message: "
                + t.message);
    }

    /** One pass of the watch (readiness, re-reads), as its timer would make it. */
    public void poll() {
        watch.poll();
    }

    @Override
    public void close() {
        watch.stop(null);
    }
}

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

    final java.time.Clock clock;
    private final StateStore store;
    private final org.canonic.gateway.state.StateStoreConfig stateConfig;

    private ComputeHarness(Path dir, java.time.Clock clock, String... settings) {
        this(dir, clock, Arc.container().instance(StateStore.class).get(),
                Arc.container().instance(org.canonic.gateway.state.StateStoreConfig.class).get(), settings);
    }

    private ComputeHarness(Path dir, java.time.Clock clock, StateStore store,
                           org.canonic.gateway.state.StateStoreConfig stateConfig, String... settings) {
        this.store = store;
        this.stateConfig = stateConfig;
        this.dir = dir;
        this.clock = clock;
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
        this.service = new ComputeService(config, new StateDirectory(dir), arc.instance(Fleet.class).get(),
                arc.instance(Webhooks.class).get(), arc.instance(ObjectMapper.class).get(),
                store, stateConfig);
        if (clock != null) {
            service.clock(clock);
        }
        this.watch = new ComputeWatch(service, arc.instance(Vertx.class).get(), registry,
                arc.instance(Replicas.class).get());
    }

    /** A service on {@code dir} with {@code settings} ({@code gateway.compute.*} key, value, ...) over the defaults. */
    public static ComputeHarness start(Path dir, String... settings) {
        return new ComputeHarness(dir, null, settings);
    }

    /** The same on a clock the test steps (grace periods, deadlines, spend). */
    public static ComputeHarness start(Path dir, java.time.Clock clock, String... settings) {
        return new ComputeHarness(dir, clock, settings);
    }

    /** A service as a replica on a shared state store (Redis) would run it, with {@code settings} over the defaults. */
    public static ComputeHarness shared(Path dir, StateStore store, org.canonic.gateway.state.StateStoreConfig config,
                                        String... settings) {
        return new ComputeHarness(dir, null, store, config, settings);
    }

    /**
     * A replica's service sharing state through {@code store} (Redis): instance keys sealed with {@code stateKeyFile}
     * (32+ bytes, the same on every replica), the tracked stream and the spend ledger shared.
     */
    public static ComputeHarness shared(Path dir, StateStore store, Path stateKeyFile, String... settings) {
        return new ComputeHarness(dir, null, store, sealedWith(Arc.container().instance(
                org.canonic.gateway.state.StateStoreConfig.class).get(), stateKeyFile), settings);
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
        return new ComputeHarness(dir, clock, store, stateConfig, settings);
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

    /** One pass of the leak watch: its report. */
    public com.fasterxml.jackson.databind.JsonNode reconcile() {
        return watch.reconcile();
    }

    /** {@code gateway.compute.interruptions} of this kind so far (0 when none). */
    public double interruptions(String kind) {
        var counter = registry.find("gateway.compute.interruptions").tag("kind", kind).counter();
        return counter == null ? 0 : counter.count();
    }

    @Override
    public void close() {
        watch.stop(null);
    }
}

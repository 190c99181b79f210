package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Another replica replaces a registered backend (same name, new URL) while the old one still drains here: the
 * name's gauges must read the successor from then on, and must survive the old one closing.
 */
class SharedReplacementMetersTest {

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final Vertx vertx = Vertx.vertx();
    private Fleet fleet;

    @AfterEach
    void stop() throws Exception {
        if (fleet != null) {
            fleet.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    @Test
    void aReplacedBackendsGaugesFollowItsSuccessorAndOutliveThePredecessor() throws Exception {
        fleet = LiveBackends.fleet(ConfigFixture.with(
                "gateway.routes.main.models", "m",
                "gateway.routes.main.backends", "a",
                "gateway.backends.a.base-url", "http://127.0.0.1:9",
                "gateway.backends.a.model", "m",
                "gateway.backends.a.probe", "none").build(), registry);
        fleet.applyShared(shared("http://127.0.0.1:7001"), 60_000);
        LiveBackend old = fleet.find("x").orElseThrow();
        // One request in flight keeps the old backend draining after the replacement.
        CompletableFuture<Boolean> taken = new CompletableFuture<>();
        old.slots().acquire(vertx, 0, "k", taken::complete);
        assertTrue(taken.get(5, TimeUnit.SECONDS));
        assertEquals(1.0, inFlightGauge().value());

        fleet.applyShared(shared("http://127.0.0.1:7002"), 60_000);
        LiveBackend successor = fleet.snapshot().backends().get("x");
        assertNotSame(old, successor);
        assertTrue(fleet.leaving().contains(old), "the old backend drains its request");
        assertEquals(0.0, inFlightGauge().value(), "the gauge reads the successor, not the draining predecessor");

        CompletableFuture<Boolean> next = new CompletableFuture<>();
        successor.slots().acquire(vertx, 0, "k", next::complete);
        assertTrue(next.get(5, TimeUnit.SECONDS));
        old.slots().release("k"); // the predecessor drains and closes
        awaitTrue(() -> !fleet.leaving().contains(old));
        assertEquals(1.0, inFlightGauge().value(), "closing the predecessor left the successor's gauges");
        assertEquals(1, registry.find("gateway.backend.inflight").tag("backend", "x").gauges().size());
        successor.slots().release("k");
    }

    private Gauge inFlightGauge() {
        Gauge gauge = registry.find("gateway.backend.inflight").tag("backend", "x").gauge();
        assertNotNull(gauge, "backend x has an in-flight gauge");
        return gauge;
    }

    private static RegistrationStore.Contents shared(String baseUrl) throws Exception {
        List<String> problems = new ArrayList<>();
        BackendRegistration registration = BackendRegistration.parse(new ObjectMapper().readTree(
                "{\"name\":\"x\",\"base_url\":\"" + baseUrl + "\",\"model\":\"m\",\"routes\":[\"main\"],"
                        + "\"probe\":\"none\"}"), problems);
        assertEquals(List.of(), problems);
        return new RegistrationStore.Contents(List.of(registration), Map.of());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not met within 5 s");
            Thread.sleep(10);
        }
    }
}

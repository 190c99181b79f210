package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeHarness;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.schedule.ScheduleFixtures.MovableClock;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A policy that scales out on the TTFT p90 of its instances, against the fake Vast.ai API and a FakeVllm playing the
 * rented machine: first tokens reach the backend's TTFT model through {@code LiveBackend.firstToken}, as routing
 * reports them; nothing waits in any queue, so only the TTFT signal can call for more.
 */
@QuarkusTest
class TtftScaleOutTest {

    private final List<Map.Entry<String, Map<String, Object>>> events = new CopyOnWriteArrayList<>();
    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-07T10:00:00Z"));
    private FakeVastAi vast;
    private FakeVllm machine;
    private ComputeHarness h;

    @BeforeEach
    void fakes() throws Exception {
        vast = FakeBackends.vastai();
        vast.reset();
        FakeBackends.runpod().reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL);
        vast.instancePort = machine.port();
        machine.metrics(FakeVllm.vllmMetrics(0, 0, 0.1, 0, 0));
        h = ComputeHarness.start(Files.createTempDirectory("ttft"));
    }

    @AfterEach
    void close() {
        for (TrackedInstance t : h.service.all()) {
            if (t.live()) {
                try {
                    h.service.handover().destroy(t.name(), true, 1000, "test", null);
                } catch (ComputeException e) {
                    // already going
                }
            }
        }
        h.close();
        machine.close();
        vast.reset();
    }

    private int creates() {
        return vast.received("PUT", "/api/v0/asks/").size();
    }

    private void tickAfter(CapacityController controller, Duration step) {
        clock.advance(step);
        controller.tick();
    }

    /** Ten streams whose first token came {@code ms} after they were sent. */
    private static void firstTokens(LiveBackend backend, long ms) {
        for (int i = 0; i < 10; i++) {
            backend.firstToken(System.nanoTime() - ms * 1_000_000L, 100, true);
        }
    }

    @Test
    void aTtftPolicyScalesOutOnlyOnceTheP90HeldAboveTheTargetForTheWholeWindow() throws Exception {
        CapacityPolicy policy = new CapacityPolicy("main", 1, 2, List.of("vastai"), null, null, null, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(3600), Duration.ZERO, Duration.ZERO,
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(5), List.of(),
                CapacityPolicy.ScaleOutSignal.TTFT_P90_MS, 1000);
        Fleet fleet = Arc.container().instance(Fleet.class).get();
        CapacityController controller = new CapacityController(List.of(policy), h.service, fleet, clock, () -> true,
                (type, data) -> events.add(Map.entry(type, data)), new SimpleMeterRegistry());
        controller.tick();
        assertEquals(1, creates(), "below min_instances");
        TrackedInstance t = h.service.all().stream().filter(TrackedInstance::live).findFirst().orElseThrow();
        h.awaitState(t, TrackedInstance.State.READY, 30_000);
        LiveBackend backend = fleet.find(t.name()).orElseThrow();

        // Fast first tokens, then a quiet minute: no scale-out.
        firstTokens(backend, 300);
        tickAfter(controller, Duration.ofSeconds(1));
        JsonNode signal = controller.view().path("policies").get(0).path("signal");
        assertEquals(300.0, signal.path("ttft_p90_ms").asDouble(), 0.5, signal.toString());
        tickAfter(controller, Duration.ofSeconds(130));
        signal = controller.view().path("policies").get(0).path("signal");
        assertTrue(signal.path("ttft_p90_ms").isNull(), "no first token since the last look: " + signal);
        assertEquals(1, creates());

        // Slow: 3 s first tokens at every look. Broken once by a fast minute: the window starts over.
        firstTokens(backend, 3000);
        tickAfter(controller, Duration.ofSeconds(60));
        assertEquals(3000.0, controller.view().path("policies").get(0).path("signal").path("ttft_p90_ms")
                .asDouble(), 0.5, controller.view().toString());
        firstTokens(backend, 200);
        tickAfter(controller, Duration.ofSeconds(60));
        firstTokens(backend, 3000);
        tickAfter(controller, Duration.ofSeconds(1));
        firstTokens(backend, 3000);
        tickAfter(controller, Duration.ofSeconds(60));
        firstTokens(backend, 3000);
        tickAfter(controller, Duration.ofSeconds(59));
        assertEquals(1, creates(), "held 119 s of a 120 s window: not yet");
        firstTokens(backend, 3000);
        tickAfter(controller, Duration.ofSeconds(1));
        assertEquals(2, creates(), "held for the whole window: one more");
        String reason = controller.view().path("policies").get(0).path("decisions").get(1).path("reason").asText();
        assertTrue(reason.startsWith("TTFT p90 3000 ms (target 1000 ms) for 120 s: launched"), reason);
        assertEquals(2, events.stream().filter(e -> e.getKey().equals(EventTypes.COMPUTE_SCALE_OUT)).count());
    }
}

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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A policy's own window against the fake Vast.ai API, a FakeVllm playing the rented machine and a clock the test
 * sets: the instance is launched ahead of the window by the time to ready and not earlier, kept while the window is in
 * force however idle, and released (scaled in by the idle rules) once it ends.
 */
@QuarkusTest
class ScheduledCapacityTest {

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
        h = ComputeHarness.start(Files.createTempDirectory("scheduled"));
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

    private void tickAt(CapacityController controller, String utc) {
        clock.set(Instant.parse(utc));
        controller.tick();
    }

    @Test
    void theWindowsInstanceIsLaunchedAheadByTheTimeToReadyKeptWhileInForceAndReleasedAfter() throws Exception {
        // Min 0; weekdays 12:00-13:00 UTC keep one. Idle scale-in after 5 minutes, no cooldowns.
        CapacityWindow noon = CapacityWindow.parse("mon-fri", "12:00", "13:00", "UTC", 1, f -> f);
        CapacityPolicy policy = new CapacityPolicy("main", 0, 2, List.of("vastai"), null, null, null, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ZERO, Duration.ZERO,
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(5), List.of(noon));
        CapacityController controller = new CapacityController(List.of(policy), h.service,
                Arc.container().instance(Fleet.class).get(), clock, () -> true,
                (type, data) -> events.add(Map.entry(type, data)), new SimpleMeterRegistry());
        controller.windows(CapacityWindows.own(Duration.ofMinutes(10)));

        tickAt(controller, "2026-12-07T10:00:00Z");
        tickAt(controller, "2026-12-07T11:49:59Z");
        assertEquals(0, creates(), "10 min to ready: nothing before 11:50");
        JsonNode row = controller.view().path("policies").get(0);
        assertEquals(0, row.path("effective_min_instances").asInt(), row.toString());
        assertEquals("2026-12-07T12:00:00Z", row.path("windows").get(0).path("starts_at").asText(), row.toString());
        assertFalse(row.path("windows").get(0).path("launching_ahead").asBoolean(), row.toString());

        tickAt(controller, "2026-12-07T11:50:00Z");
        assertEquals(1, creates(), "launched 10 minutes ahead of the window");
        row = controller.view().path("policies").get(0);
        assertEquals(1, row.path("effective_min_instances").asInt(), row.toString());
        assertTrue(row.path("windows").get(0).path("launching_ahead").asBoolean(), row.toString());
        assertTrue(row.path("window_in_force").asText().contains("mon-fri 12:00-13:00 UTC"), row.toString());
        assertTrue(row.path("decisions").get(0).path("reason").asText().contains("below min_instances 1 of the"
                + " window mon-fri 12:00-13:00 UTC starting 2026-12-07T12:00:00Z"), row.toString());
        TrackedInstance t = h.service.all().stream().filter(TrackedInstance::live).findFirst().orElseThrow();
        h.awaitState(t, TrackedInstance.State.READY, 30_000);

        // Idle all through the window (far past the 5-minute idle window): kept.
        for (String at : List.of("11:55:00", "12:00:00", "12:10:00", "12:30:00", "12:59:59")) {
            tickAt(controller, "2026-12-07T" + at + "Z");
            assertEquals(TrackedInstance.State.READY, t.state(), "in force at " + at);
        }
        assertEquals(1, creates());
        row = controller.view().path("policies").get(0);
        assertTrue(row.path("windows").get(0).path("in_force").asBoolean(), row.toString());
        assertEquals(0, events.stream().filter(e -> e.getKey().equals(EventTypes.COMPUTE_SCALE_IN)).count());

        // 13:00: released; idle for longer than the idle window, so the normal rule stops it.
        tickAt(controller, "2026-12-07T13:00:00Z");
        assertEquals(TrackedInstance.State.STOPPED, t.state(), controller.view().toString());
        assertEquals(1, events.stream().filter(e -> e.getKey().equals(EventTypes.COMPUTE_SCALE_IN)).count());
        row = controller.view().path("policies").get(0);
        assertEquals(0, row.path("effective_min_instances").asInt(), row.toString());
        assertTrue(row.path("window_in_force").isNull(), row.toString());
        assertEquals("2026-12-08T12:00:00Z", row.path("windows").get(0).path("starts_at").asText(), row.toString());
    }
}

package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeHarness;
import org.canonic.gateway.compute.FakeRunPod;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.compute.ProvisionRequest;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.health.BackendState;
import org.canonic.gateway.schedule.ScheduleFixtures.MovableClock;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interrupted and dying instances (issue 23, item 6) against the fake Vast.ai API over loopback HTTP, a FakeVllm
 * playing every rented machine, the gateway's fleet and clocks the test steps: an outbid interruptible instance, one
 * that stops answering its probes, one rented by hand, and a replacement the cost guard refuses.
 */
@QuarkusTest
class ReplacementTest {

    private final List<ComputeHarness> harnesses = new ArrayList<>();
    private final List<Map.Entry<String, Map<String, Object>>> events = new CopyOnWriteArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-07T10:00:00Z"));
    private FakeVastAi vast;
    private FakeVllm machine;
    private Fleet fleet;

    @BeforeEach
    void fakes() {
        vast = FakeBackends.vastai();
        vast.reset();
        FakeBackends.runpod().reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL);
        vast.instancePort = machine.port();
        machine.metrics(FakeVllm.vllmMetrics(0, 0, 0.1, 0, 0));
        fleet = Arc.container().instance(Fleet.class).get();
    }

    @AfterEach
    void close() {
        for (ComputeHarness h : harnesses) {
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
        }
        machine.close();
        vast.reset();
    }

    private ComputeHarness harness(String... settings) throws Exception {
        ComputeHarness h = ComputeHarness.start(Files.createTempDirectory("replace"), settings);
        harnesses.add(h);
        return h;
    }

    private CapacityController controller(ComputeHarness h, List<CapacityPolicy> policies) {
        CapacityController controller = new CapacityController(policies, h.service, fleet, clock, () -> true,
                (type, data) -> events.add(Map.entry(type, data)), registry);
        h.service.onInterruption(controller::lost);
        return controller;
    }

    /** Vast.ai only, min 1 and max 2, a 60 s scale-out cooldown, planned for {@code hours}. */
    private static CapacityPolicy policy(double hours) {
        return new CapacityPolicy("main", 1, 2, List.of("vastai"), "RTX 4090", 20.0, 0.50, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(60),
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, hours, Duration.ofSeconds(10));
    }

    private List<Map<String, Object>> events(String type) {
        return events.stream().filter(e -> e.getKey().equals(type)).map(Map.Entry::getValue).toList();
    }

    private int creates() {
        return vast.received("PUT", "/api/v0/asks/").size();
    }

    private static List<TrackedInstance> live(ComputeHarness h) {
        return h.service.all().stream().filter(TrackedInstance::live)
                .sorted(Comparator.comparing(TrackedInstance::createdAt)).toList();
    }

    private static boolean delivered(String type, String instance) throws InterruptedException {
        long until = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < until) {
            if (FakeBackends.webhooks().deliveries().stream().map(d -> d.json())
                    .anyMatch(e -> type.equals(e.path("type").asText())
                            && instance.equals(e.path("data").path("instance").asText()))) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    @Test
    void anOutbidInterruptibleInstanceIsDrainedDestroyedAndReplacedAtOnce() throws Exception {
        ComputeHarness h = harness();
        CapacityController controller = controller(h, List.of(policy(1)));
        controller.tick();
        assertEquals(1, creates());
        TrackedInstance old = live(h).get(0);
        h.awaitState(old, TrackedInstance.State.READY, 30_000);
        assertTrue(fleet.find(old.name()).isPresent());

        vast.outbid(old.providerId()); // actual = intended = cur_state = next_state = "stopped"
        h.poll();
        assertFalse(fleet.find(old.name()).isPresent(), "drained out of the fleet");
        assertEquals(TrackedInstance.State.DESTROYED, old.state(), "an outbid instance bills storage while stopped:"
                + " destroyed by default");
        assertFalse(vast.instances.containsKey(old.providerId()), "destroyed at the provider");
        assertTrue(delivered(EventTypes.COMPUTE_INTERRUPTED, old.name()));

        // Within the scale-out cooldown of the first launch: only a replacement goes ahead now.
        clock.advance(Duration.ofSeconds(1));
        controller.tick();
        assertEquals(2, creates(), "replaced");
        TrackedInstance replacement = live(h).get(0);
        assertFalse(replacement.name().equals(old.name()));
        List<Map<String, Object>> replaced = events(EventTypes.COMPUTE_REPLACED);
        assertEquals(1, replaced.size(), events.toString());
        assertEquals(old.name(), replaced.get(0).get("replaces"));
        assertEquals(replacement.name(), replaced.get(0).get("instance"));
        assertEquals(1.0, registry.counter("gateway.compute.replaced", "recipe", "main", "provider", "vastai")
                .count());
        assertTrue(controller.view().path("policies").get(0).path("decisions").toString().contains("replace"));
        h.awaitState(replacement, TrackedInstance.State.READY, 30_000);

        clock.advance(Duration.ofMinutes(10));
        controller.tick();
        assertEquals(2, creates(), "replaced once");
        JsonNode leaks = h.reconcile();
        assertEquals(0, leaks.path("leak_count").asInt(), leaks.toString());
        assertEquals(0, leaks.path("errors").size(), leaks.toString());
    }

    @Test
    void anInstanceThatStopsAnsweringItsProbesPastTheGraceIsDrainedReplacedAndReported() throws Exception {
        MovableClock computeClock = new MovableClock(Instant.now());
        ComputeHarness h = ComputeHarness.start(Files.createTempDirectory("replace"), computeClock,
                "gateway.compute.unresponsive-grace", "60s");
        harnesses.add(h);
        CapacityController controller = controller(h, List.of(policy(1)));
        controller.tick();
        TrackedInstance old = live(h).get(0);
        h.awaitState(old, TrackedInstance.State.READY, 30_000);

        machine.healthStatus(503); // the provider still says running; vLLM no longer answers
        long until = System.currentTimeMillis() + 10_000;
        while (fleet.find(old.name()).map(b -> b.snapshot().state() != BackendState.DOWN).orElse(true)
                && System.currentTimeMillis() < until) {
            Thread.sleep(100);
        }
        assertEquals(BackendState.DOWN, fleet.find(old.name()).orElseThrow().snapshot().state());
        h.poll();
        computeClock.advance(Duration.ofSeconds(59));
        h.poll();
        assertEquals(TrackedInstance.State.READY, old.state(), "59 s of a 60 s grace: not yet");
        assertTrue(h.service.view(old).has("unresponsive_since"), "shown to operators while in its grace");
        clock.advance(Duration.ofSeconds(1));
        controller.tick();
        assertEquals(1, creates(), "nothing lost yet, nothing replaced");

        computeClock.advance(Duration.ofSeconds(2));
        h.poll();
        assertEquals(TrackedInstance.State.DESTROYED, old.state(), "failed, then destroyed (on-readiness-failure)");
        assertFalse(fleet.find(old.name()).isPresent());
        assertFalse(vast.instances.containsKey(old.providerId()));
        assertEquals(1.0, h.interruptions("unresponsive"));
        assertTrue(delivered(EventTypes.COMPUTE_INTERRUPTED, old.name()));

        clock.advance(Duration.ofSeconds(1));
        controller.tick();
        assertEquals(2, creates(), "replaced");
        assertEquals(1, events(EventTypes.COMPUTE_REPLACED).size());
        machine.healthStatus(200);
    }

    @Test
    void aReplacementGoesToTheNextProviderWhenTheFirstHasNoOfferAndAnExitedContainerCountsAsLost() throws Exception {
        ComputeHarness h = harness();
        FakeRunPod runpod = FakeBackends.runpod();
        runpod.nextPodId = Integer.toString(machine.port());
        CapacityPolicy both = new CapacityPolicy("main", 1, 2, List.of("vastai", "runpod"), "RTX 4090", 20.0, 0.80,
                2, Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ofSeconds(60),
                Duration.ofSeconds(60), CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1,
                Duration.ofSeconds(10));
        CapacityController controller = controller(h, List.of(both));
        controller.tick();
        TrackedInstance old = live(h).get(0);
        assertEquals("vastai", old.provider());
        h.awaitState(old, TrackedInstance.State.READY, 30_000);

        vast.offers.clear(); // Vast.ai has nothing left that fits
        vast.exit(old.providerId());
        h.poll();
        assertEquals(TrackedInstance.State.DESTROYED, old.state(), "an exited container: destroyed");
        assertEquals(1.0, h.interruptions("failed"));
        clock.advance(Duration.ofSeconds(1));
        controller.tick();
        assertEquals(1, runpod.received("POST", "/v2/pods").size(), "replaced on the next provider");
        TrackedInstance replacement = live(h).get(0);
        assertEquals("runpod", replacement.provider());
        assertEquals("runpod", events(EventTypes.COMPUTE_REPLACED).get(0).get("provider"));
        h.awaitState(replacement, TrackedInstance.State.READY, 30_000);

        // A spot pod interrupted without warning (EXITED, cost 0.0): stopped at RunPod, destroyed here, replaced.
        runpod.interrupt(replacement.providerId());
        h.poll();
        assertEquals(TrackedInstance.State.DESTROYED, replacement.state());
        assertFalse(runpod.pods.containsKey(replacement.providerId()), "terminated at RunPod");
        clock.advance(Duration.ofSeconds(1));
        controller.tick();
        assertEquals(2, runpod.received("POST", "/v2/pods").size(), "replaced again");
        assertEquals(2, events(EventTypes.COMPUTE_REPLACED).size());
        assertEquals(0, h.reconcile().path("leak_count").asInt());
    }

    @Test
    void aCleanUpTheProviderRefusesIsTriedAgainAndTheInstanceStaysTrackedUntilItIsGone() throws Exception {
        ComputeHarness h = harness();
        CapacityController controller = controller(h, List.of(policy(1)));
        controller.tick();
        TrackedInstance old = live(h).get(0);
        h.awaitState(old, TrackedInstance.State.READY, 30_000);

        vast.failNext("DELETE", "/api/v0/instances/", 500, 1);
        vast.outbid(old.providerId());
        h.poll();
        assertEquals(TrackedInstance.State.STOPPED, old.state(), "the destroy failed: still tracked, stopped");
        assertEquals("destroy", h.service.view(old).path("cleanup_pending").asText());
        assertTrue(vast.instances.containsKey(old.providerId()));
        JsonNode leaks = h.reconcile();
        assertEquals(0, leaks.path("leak_count").asInt(), "tracked while it bills storage: " + leaks);
        clock.advance(Duration.ofSeconds(1));
        controller.tick();
        assertEquals(2, creates(), "the lost capacity is replaced meanwhile");

        h.poll();
        assertEquals(TrackedInstance.State.DESTROYED, old.state(), "destroyed on the next poll");
        assertFalse(vast.instances.containsKey(old.providerId()));
        assertEquals(0, h.reconcile().path("leak_count").asInt());
    }

    @Test
    void anInterruptedInstanceWithoutAPolicyIsReportedAndDrainedButNotReplaced() throws Exception {
        ComputeHarness h = harness();
        CapacityController controller = controller(h, List.of());
        JsonNode answer = h.service.provision(new ProvisionRequest("vastai", "main", 2, "101", null, null, null),
                "ops", null);
        TrackedInstance t = h.service.find(answer.path("instance").path("id").asText());
        h.awaitState(t, TrackedInstance.State.READY, 30_000);

        vast.outbid(t.providerId());
        h.poll();
        assertFalse(fleet.find(t.name()).isPresent(), "drained");
        assertEquals(TrackedInstance.State.DESTROYED, t.state());
        assertTrue(delivered(EventTypes.COMPUTE_INTERRUPTED, t.name()));
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofMinutes(5));
            controller.tick();
        }
        assertEquals(1, creates(), "no policy: not replaced");
        assertTrue(events(EventTypes.COMPUTE_REPLACED).isEmpty());
        assertEquals(0, h.reconcile().path("leak_count").asInt());
    }

    @Test
    void aReplacementTheCostGuardRefusesIsReportedOnceAndNeverRetriedAndTheKeptInstanceIsNoLeak() throws Exception {
        // $0.40/h x 10 h = $4 per launch against a $5 cap. Kept stopped, the outbid one keeps its reservation (it
        // still bills storage), so its replacement would not fit the day's cap.
        ComputeHarness h = harness("gateway.compute.daily-cap-usd", "5", "gateway.compute.on-interruption", "keep");
        CapacityController controller = controller(h, List.of(policy(10)));
        controller.tick();
        TrackedInstance old = live(h).get(0);
        h.awaitState(old, TrackedInstance.State.READY, 30_000);

        vast.outbid(old.providerId());
        h.poll();
        assertEquals(TrackedInstance.State.STOPPED, old.state(), "on-interruption=keep: left stopped");
        assertTrue(vast.instances.containsKey(old.providerId()));
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofMinutes(5));
            controller.tick();
            h.poll();
        }
        assertEquals(1, creates(), "never launched");
        assertTrue(vast.received("PUT", "/api/v0/instances/" + old.providerId()).isEmpty(),
                "the outbid one is not started again in its place");
        assertEquals(1, events(EventTypes.COMPUTE_SCALE_REFUSED).size(), events.toString());
        assertEquals(1.0, registry.counter("gateway.compute.scale_refused", "recipe", "main").count());
        assertTrue(events(EventTypes.COMPUTE_REPLACED).isEmpty());
        JsonNode view = controller.view().path("policies").get(0);
        assertEquals(0, view.path("current_instances").asInt(), "a stopped instance is no live capacity: " + view);
        assertEquals(1, view.path("decisions").toString().split("scale_refused", -1).length - 1, view.toString());
        JsonNode leaks = h.reconcile();
        assertEquals(0, leaks.path("leak_count").asInt(), "tracked while it bills storage: " + leaks);
    }
}

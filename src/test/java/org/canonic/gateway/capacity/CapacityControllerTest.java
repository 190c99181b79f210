package org.canonic.gateway.capacity;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeHarness;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.fleet.BackendSlots;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The capacity controller against the fake Vast.ai API over loopback HTTP, a FakeVllm playing every rented machine,
 * the gateway's fleet and a clock the test steps: windows, cooldowns, the cost guard, the anti-stop guard and
 * provider lists that fail.
 */
@QuarkusTest
class CapacityControllerTest {

    private final List<ComputeHarness> harnesses = new ArrayList<>();
    private final List<Map.Entry<String, Map<String, Object>>> events = new CopyOnWriteArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-07T10:00:00Z"));
    private final AtomicBoolean leads = new AtomicBoolean(true);
    private FakeVastAi vast;
    private FakeVllm machine;
    private Fleet fleet;

    @BeforeEach
    void fakes() {
        vast = FakeBackends.vastai();
        vast.reset();
        FakeBackends.runpod().reset();
        vast.offers.add(FakeVastAi.offer(102, "RTX 4090", 24564, 0.55, 0.99));
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        vast.offers.add(FakeVastAi.offer(103, "RTX 3090", 24564, 0.20, 0.99));
        machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL);
        vast.instancePort = machine.port();
        // A metrics page from the start: one that is missing is asked again only ten intervals later.
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
        ComputeHarness h = ComputeHarness.start(Files.createTempDirectory("capacity"), settings);
        harnesses.add(h);
        return h;
    }

    private CapacityController controller(ComputeHarness h, CapacityPolicy policy) {
        return new CapacityController(List.of(policy), h.service, fleet, clock, leads::get,
                (type, data) -> events.add(Map.entry(type, data)), registry);
    }

    /** Vast.ai only, RTX 4090, up to $0.50/h: offer 101 is the one that fits. */
    private static CapacityPolicy policy(int min, int max, double plannedHours) {
        return new CapacityPolicy("main", min, max, List.of("vastai"), "RTX 4090", 20.0, 0.50, 2,
                Duration.ofSeconds(120), 0, Duration.ofSeconds(300), Duration.ofSeconds(60), Duration.ofSeconds(60),
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, plannedHours, Duration.ofSeconds(10));
    }

    private long count(String type) {
        return events.stream().filter(e -> e.getKey().equals(type)).count();
    }

    private int creates() {
        return vast.received("PUT", "/api/v0/asks/").size();
    }

    private List<TrackedInstance> live(ComputeHarness h) {
        return h.service.all().stream().filter(TrackedInstance::live)
                .sorted(Comparator.comparing(TrackedInstance::createdAt)).toList();
    }

    private void tickAfter(CapacityController controller, Duration step) {
        clock.advance(step);
        controller.tick();
    }

    @Test
    void scalesOutOnlyOnceTheWaitingHeldForTheWholeWindowOnTheCheapestOfferThatFits() throws Exception {
        ComputeHarness h = harness();
        CapacityController controller = controller(h, policy(1, 2, 1));
        controller.tick();
        assertEquals(1, creates(), "below min_instances: one launch at once");
        TrackedInstance first = live(h).get(0);
        assertEquals("101", first.offerId(), "the cheapest offer meeting GPU, VRAM and $/h");
        h.awaitState(first, TrackedInstance.State.READY, 30_000);

        tickAfter(controller, Duration.ofSeconds(300));
        assertEquals(1, creates(), "no waiting requests: nothing");

        // vLLM says 6 requests wait on the one instance: 6 per instance against a target of 2.
        machine.metrics(FakeVllm.vllmMetrics(4, 6, 0.9, 0, 0));
        LiveBackend backend = fleet.find(first.name()).orElseThrow();
        long until = System.currentTimeMillis() + 10_000;
        while ((backend.load().signals() == null || backend.load().signals().waiting() != 6)
                && System.currentTimeMillis() < until) {
            Thread.sleep(100);
        }
        assertEquals(6, backend.load().signals().waiting(), "the scrape arrived");
        tickAfter(controller, Duration.ofSeconds(1));
        tickAfter(controller, Duration.ofSeconds(119));
        assertEquals(1, creates(), "held 119 s of a 120 s window: not yet");
        tickAfter(controller, Duration.ofSeconds(1));
        assertEquals(2, creates(), "held for the whole window: one more");
        assertEquals(2, count(EventTypes.COMPUTE_SCALE_OUT));
        assertEquals(2.0, registry.counter("gateway.compute.scale_out", "recipe", "main", "provider", "vastai")
                .count());
        var view = controller.view().path("policies").get(0);
        assertEquals(2, view.path("current_instances").asInt(), view.toString());
        assertTrue(view.path("decisions").toString().contains("scale_out"), view.toString());

        tickAfter(controller, Duration.ofSeconds(600));
        assertEquals(2, creates(), "at max_instances (and the new one is not ready yet): no third");
    }

    /** Waits until the fleet's scrape of {@code t}'s backend shows {@code waiting} requests waiting. */
    private void awaitWaiting(TrackedInstance t, int waiting) throws InterruptedException {
        LiveBackend backend = fleet.find(t.name()).orElseThrow();
        long until = System.currentTimeMillis() + 10_000;
        while ((backend.load().signals() == null || backend.load().signals().waiting() != waiting)
                && System.currentTimeMillis() < until) {
            Thread.sleep(100);
        }
        assertEquals(waiting, backend.load().signals().waiting(), "the scrape arrived");
    }

    @Test
    void aBurstLaunchesWhatTheWaitingCallsForInOneDecisionAndALaunchUnderWayCountsAsCapacityOnTheWay()
            throws Exception {
        ComputeHarness h = harness();
        // Up to 8 instances, at most 3 per decision; each instance takes 4 running + the target of 2 waiting.
        CapacityController controller = controller(h, policy(1, 8, 1).withMaxScaleOutStep(3));
        controller.tick();
        TrackedInstance first = live(h).get(0);
        h.awaitState(first, TrackedInstance.State.READY, 30_000);
        vast.createdStatus = "loading"; // from here on, launched machines stay launching

        // A burst: 40 waiting beside 4 running on the one instance, 44 open = 8 instances' worth; the step bounds it.
        machine.metrics(FakeVllm.vllmMetrics(4, 40, 0.9, 0, 0));
        awaitWaiting(first, 40);
        tickAfter(controller, Duration.ofSeconds(1));
        tickAfter(controller, Duration.ofSeconds(120));
        assertEquals(1 + 3, creates(), "one decision launched max_scale_out_step instances, not one");
        assertEquals(4, count(EventTypes.COMPUTE_SCALE_OUT));
        assertEquals(4, live(h).size());
        var view = controller.view().path("policies").get(0);
        assertEquals(8, view.path("desired_instances").asInt(), view.toString());

        // The three still launch; the burst eases to what serving + launching covers (10 open = 2 instances' worth).
        machine.metrics(FakeVllm.vllmMetrics(4, 6, 0.9, 0, 0));
        awaitWaiting(first, 6);
        for (int i = 0; i < 5; i++) {
            tickAfter(controller, Duration.ofSeconds(120));
        }
        assertEquals(4, creates(), "demand covered by the launches under way: nothing more");
        assertTrue(controller.view().toString().contains("covered by the 3 instance(s) launching"),
                controller.view().toString());

        // The burst comes back while the three still launch (the signal stayed above target all along, so the
        // window held): the work beyond serving + launching, in one decision.
        machine.metrics(FakeVllm.vllmMetrics(4, 40, 0.9, 0, 0));
        awaitWaiting(first, 40);
        tickAfter(controller, Duration.ofSeconds(1));
        assertEquals(7, creates(), "3 more while three launch: 8 wanted, 4 active, step 3");
        for (int i = 0; i < 5; i++) {
            tickAfter(controller, Duration.ofSeconds(120));
        }
        assertEquals(8, creates(), "never above max_instances");
    }

    @Test
    void aLaunchTheCostGuardWouldNotAdmitAutomaticallyIsNeverMadeAndReportedOnce() throws Exception {
        // $0.40/h x 60 h = $24: above the $20 confirmation tier, which no automatic launch may use.
        ComputeHarness h = harness();
        CapacityController controller = controller(h, policy(1, 2, 60));
        for (int i = 0; i < 5; i++) {
            tickAfter(controller, Duration.ofMinutes(10));
        }
        assertEquals(0, creates(), "never launched");
        assertEquals(0, live(h).size());
        assertEquals(1, count(EventTypes.COMPUTE_SCALE_REFUSED), events.toString());
        assertEquals(1.0, registry.counter("gateway.compute.scale_refused", "recipe", "main").count());
        assertEquals(0, h.committedCents(), "nothing reserved against the cap");
        var decisions = controller.view().path("policies").get(0).path("decisions");
        assertEquals(1, decisions.size(), decisions.toString());
        assertTrue(decisions.get(0).path("reason").asText().contains("needs_confirmation"), decisions.toString());

        // A warn-tier launch that does not fit the day's cap ($5): refused the same way.
        events.clear();
        ComputeHarness capped = harness("gateway.compute.daily-cap-usd", "5");
        CapacityController second = controller(capped, policy(1, 2, 15));
        second.tick();
        tickAfter(second, Duration.ofMinutes(10));
        assertEquals(0, creates());
        assertEquals(1, count(EventTypes.COMPUTE_SCALE_REFUSED), events.toString());
        assertTrue(second.view().path("policies").get(0).path("decisions").get(0).path("reason").asText()
                .contains("over_cap"));
    }

    @Test
    void scaleInDrainsTheBusyNewestInstanceBeforeStoppingItAndNeverGoesBelowTheMinimum() throws Exception {
        ComputeHarness h = harness();
        CapacityPolicy two = new CapacityPolicy("main", 2, 2, List.of("vastai"), null, null, null, 2,
                Duration.ofSeconds(120), 1, Duration.ofSeconds(300), Duration.ZERO, Duration.ZERO,
                CapacityPolicy.ScaleIn.STOP, CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(20));
        CapacityController controller = controller(h, two);
        controller.tick();
        tickAfter(controller, Duration.ofSeconds(1));
        assertEquals(2, creates());
        List<TrackedInstance> instances = live(h);
        for (TrackedInstance t : instances) {
            h.awaitState(t, TrackedInstance.State.READY, 30_000);
        }
        TrackedInstance older = instances.get(0);
        TrackedInstance newest = instances.get(1);
        // The demand falls: one instance is enough (min 1), and one request is still open on the newest.
        controller.put(new CapacityPolicy("main", 1, 2, two.providers(), null, null, null, 2, two.scaleOutWindow(),
                1, Duration.ofSeconds(300), Duration.ZERO, Duration.ZERO, CapacityPolicy.ScaleIn.STOP,
                CapacityPolicy.Order.NEWEST, 1, Duration.ofSeconds(20)));
        BackendSlots slots = fleet.find(newest.name()).orElseThrow().slots();
        assertTrue(slots.tryAcquire("client"));
        AtomicLong releasedAt = new AtomicLong();
        Thread release = new Thread(() -> {
            try {
                Thread.sleep(3500);
            } catch (InterruptedException e) {
                return;
            }
            releasedAt.set(System.currentTimeMillis());
            slots.release("client");
        });
        controller.tick();
        tickAfter(controller, Duration.ofSeconds(299));
        assertEquals(TrackedInstance.State.READY, newest.state(), "idle 299 s of a 300 s window: not yet");
        release.start();
        clock.advance(Duration.ofSeconds(1));
        controller.tick(); // blocks while the request drains
        long stoppedAt = System.currentTimeMillis();
        assertEquals(TrackedInstance.State.STOPPED, newest.state(), controller.view().toString());
        assertTrue(releasedAt.get() > 0 && releasedAt.get() <= stoppedAt, "stopped after its request ended");
        List<FakeVastAi.Received> stops = vast.received("PUT", "/api/v0/instances/" + newest.providerId());
        assertFalse(stops.isEmpty(), "stopped through the provider");
        assertFalse(fleet.find(newest.name()).isPresent(), "out of the fleet");
        assertEquals(TrackedInstance.State.READY, older.state(), "the older one serves on");
        assertEquals(1, count(EventTypes.COMPUTE_SCALE_IN));
        assertEquals(1.0, registry.counter("gateway.compute.scale_in", "recipe", "main").count());

        for (int i = 0; i < 4; i++) {
            tickAfter(controller, Duration.ofMinutes(10));
        }
        assertEquals(TrackedInstance.State.READY, older.state(), "never below min_instances");
        assertEquals(1, count(EventTypes.COMPUTE_SCALE_IN));

        // Demand comes back: the stopped instance is started rather than a third one rented beside it.
        machine.metrics(FakeVllm.vllmMetrics(4, 6, 0.9, 0, 0));
        LiveBackend serving = fleet.find(older.name()).orElseThrow();
        long until = System.currentTimeMillis() + 10_000;
        while ((serving.load().signals() == null || serving.load().signals().waiting() != 6)
                && System.currentTimeMillis() < until) {
            Thread.sleep(100);
        }
        tickAfter(controller, Duration.ofSeconds(1));
        tickAfter(controller, Duration.ofSeconds(121));
        assertEquals(2, creates(), "nothing new rented");
        assertEquals(TrackedInstance.State.WAITING, newest.state(), "the stopped one is starting");
        assertEquals(3, count(EventTypes.COMPUTE_SCALE_OUT));
    }

    @Test
    void wakeDemandLaunchesAtOnceWithoutTheWindowOnceAndIsForgottenWhenStale() throws Exception {
        // Route main is served by the gateway's own backends, so no request there would wake anything: this recipe
        // joins a route nothing serves.
        ComputeHarness h = harness("gateway.compute.recipes.main.route", "cold");
        CapacityController served = controller(harness(), policy(0, 1, 1));
        served.demand(served.state("main"));
        served.tick();
        assertEquals(0, creates(), "demand for a route that serves (alpha, beta) launches nothing");

        CapacityController controller = controller(h, policy(0, 1, 1));
        controller.tick();
        tickAfter(controller, Duration.ofMinutes(10));
        assertEquals(0, creates(), "min_instances 0 and nobody asked: nothing runs");

        PolicyState st = controller.state("main");
        controller.demand(st);
        tickAfter(controller, Duration.ofMinutes(3));
        assertEquals(0, creates(), "a demand nobody acted on for two minutes is forgotten");

        controller.demand(st);
        tickAfter(controller, Duration.ofSeconds(1));
        assertEquals(1, creates(), "fresh demand and nothing routable: a launch at once, no window to wait for");
        controller.demand(st);
        tickAfter(controller, Duration.ofSeconds(1));
        assertEquals(1, creates(), "the launch under way answers the next demand");
        assertEquals(1, count(EventTypes.COMPUTE_SCALE_OUT));
        assertTrue(controller.view().path("policies").get(0).path("decisions").get(0).path("reason").asText()
                .contains("wake on demand"), controller.view().toString());
    }

    @Test
    void aFailedProviderListNeverTriggersALaunchOrAScaleInAndAFollowerNeverActs() throws Exception {
        ComputeHarness h = harness();
        CapacityController controller = controller(h, policy(1, 2, 1));
        leads.set(false);
        tickAfter(controller, Duration.ofMinutes(10));
        assertEquals(0, creates(), "a follower does not act");
        leads.set(true);

        vast.listOverride = "{\"instances\":\"gone\"}";
        tickAfter(controller, Duration.ofMinutes(10));
        tickAfter(controller, Duration.ofMinutes(10));
        assertEquals(0, creates(), "below the minimum, but the list failed: no launch on wrong information");
        var decisions = controller.view().path("policies").get(0).path("decisions");
        assertEquals(1, decisions.size(), "reported once: " + decisions);
        assertTrue(decisions.get(0).path("reason").asText().contains("vastai instance list failed"),
                decisions.toString());

        vast.listOverride = null;
        tickAfter(controller, Duration.ofMinutes(10));
        assertEquals(1, creates());
        TrackedInstance t = live(h).get(0);
        h.awaitState(t, TrackedInstance.State.READY, 30_000);

        // Idle, and min 0 now: due for a scale-in, but the list fails again.
        controller.put(policy(0, 2, 1));
        vast.listOverride = "{\"instances\":\"gone\"}";
        controller.tick();
        tickAfter(controller, Duration.ofSeconds(600));
        tickAfter(controller, Duration.ofSeconds(600));
        assertEquals(TrackedInstance.State.READY, t.state(), "no scale-in on wrong information");
        assertEquals(0, count(EventTypes.COMPUTE_SCALE_IN));

        vast.listOverride = null;
        controller.tick();
        tickAfter(controller, Duration.ofSeconds(301));
        assertEquals(TrackedInstance.State.STOPPED, t.state(), "the list answers again: idle past the window");
        assertEquals(1, count(EventTypes.COMPUTE_SCALE_IN));
    }
}

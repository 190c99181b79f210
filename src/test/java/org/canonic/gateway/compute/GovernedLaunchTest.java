package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Launches that must not lose money: what a create that failed, timed out or answered late left behind, and what
 * the daily cap counts. A {@link ComputeHarness} service per test (its own state directory) against the fake
 * provider APIs over loopback HTTP.
 */
@QuarkusTest
class GovernedLaunchTest {

    private final List<ComputeHarness> harnesses = new ArrayList<>();
    private FakeVastAi vast;
    private FakeRunPod runpod;

    @BeforeEach
    void fakes() {
        vast = FakeBackends.vastai();
        runpod = FakeBackends.runpod();
        vast.reset();
        runpod.reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
    }

    @AfterEach
    void close() {
        harnesses.forEach(ComputeHarness::close);
        vast.reset();
        runpod.reset();
    }

    private ComputeHarness harness(String... settings) throws Exception {
        ComputeHarness h = ComputeHarness.start(Files.createTempDirectory("compute"), settings);
        harnesses.add(h);
        return h;
    }

    private ComputeHarness restart(ComputeHarness h) {
        ComputeHarness next = h.restart();
        harnesses.add(next);
        return next;
    }

    private static ProvisionRequest launch(String provider, String offer, double hours) {
        return new ProvisionRequest(provider, "main", hours, offer, null, null, null);
    }

    private static TrackedInstance only(ComputeHarness h) {
        List<TrackedInstance> all = h.service.all();
        assertEquals(1, all.size(), all.toString());
        return all.get(0);
    }

    @Test
    void aRunPodCreateThatCreatedAndAnswered502MakesOnePodWhichIsAdopted() throws Exception {
        ComputeHarness h = harness();
        runpod.createAnswerStatus = 502;
        JsonNode answer = h.service.provision(launch("runpod", "NVIDIA GeForce RTX 3090", 1), "test", null);
        assertEquals(1, runpod.received("POST", "/v2/pods").size(), "never sent twice");
        assertEquals(1, runpod.pods.size());
        String podId = runpod.pods.keySet().iterator().next();
        assertEquals(podId, answer.path("instance").path("provider_id").asText(), "found by its label, adopted");
        assertEquals("waiting", answer.path("instance").path("state").asText());
        assertTrue(answer.path("warning").asText().contains("502"), answer.toString());
        assertEquals(0, h.watch.reconcile().path("leaks").size());
    }

    @Test
    void aSecondInstanceWithATrackedLabelButAnotherIdIsALeak() throws Exception {
        ComputeHarness h = harness();
        JsonNode answer = h.service.provision(launch("runpod", "NVIDIA GeForce RTX 3090", 1), "test", null);
        String name = answer.path("instance").path("id").asText();
        String twin = runpod.addPod(name, "RUNNING").path("id").asText();
        JsonNode leaks = h.watch.reconcile().path("leaks");
        assertEquals(1, leaks.size(), leaks.toString());
        assertEquals(twin, leaks.get(0).path("provider_id").asText());
        assertEquals("untracked", leaks.get(0).path("kind").asText());
    }

    @Test
    void everyLaunchCountsAgainstTheCapSoParallelAutomaticLaunchesStopAtIt() throws Exception {
        ComputeHarness h = harness();
        vast.offers.add(FakeVastAi.offer(102, "RTX 4090", 24564, 20.0, 0.99));
        vast.offers.add(FakeVastAi.offer(103, "RTX 4090", 24564, 4.75, 0.99));
        h.service.provision(launch("vastai", "102", 1), "test", null);
        assertEquals(2000, h.committedCents(), "the $20 cap is full");
        assertEquals("over_cap", h.service.estimate(launch("vastai", "103", 1)).path("tier").asText(),
                "the preview says an automatic-tier estimate does not fit either");
        int before = vast.instances.size();
        ExecutorService pool = Executors.newFixedThreadPool(20);
        List<Future<Integer>> tries = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            tries.add(pool.submit(() -> {
                try {
                    h.service.provision(launch("vastai", "103", 1), "test", null);
                    return 201;
                } catch (ComputeException e) {
                    return e.status();
                }
            }));
        }
        for (Future<Integer> attempt : tries) {
            assertEquals(409, attempt.get(), "$4.75 is under warn-usd, but the cap is full");
        }
        pool.shutdown();
        assertEquals(before, vast.instances.size(), "nothing launched");
        assertEquals(2000, h.committedCents());
    }

    @Test
    void aRestartKeepsTheDaysSpendAndGivesTheInstanceItsReservationBack() throws Exception {
        ComputeHarness h = harness();
        String name = h.service.provision(launch("vastai", "101", 2), "test", null).path("instance").path("id")
                .asText();
        assertEquals(80, h.committedCents());
        ComputeHarness after = restart(h);
        assertEquals(80, after.committedCents(), "the day's committed spend survives a restart");
        after.service.handover().destroy(name, true, 1000, "test", null);
        assertTrue(after.committedCents() < 80, "settled with what it really cost: " + after.committedCents());
    }

    @Test
    void aProvider500AfterCreatingIsAmbiguousAndTheInstanceIsFoundAndKept() throws Exception {
        ComputeHarness h = harness();
        vast.createAnswerStatus = 500;
        JsonNode answer = h.service.provision(launch("vastai", "101", 2), "test", null);
        assertEquals(1, vast.instances.size());
        String id = vast.instances.keySet().iterator().next();
        assertEquals(id, answer.path("instance").path("provider_id").asText());
        assertEquals(80, h.committedCents(), "its reservation is kept");
    }

    @Test
    void aTimedOutCreateWhoseInstanceTheListShowsLateIsAdoptedNotForgotten() throws Exception {
        ComputeHarness h = harness("gateway.compute.provider-timeout", "500ms",
                "gateway.compute.create-lookup-window", "20s");
        vast.createAnswerDelayMs = 1500;
        vast.listLagMs = 2500;
        ComputeException unknown = assertThrows(ComputeException.class,
                () -> h.service.provision(launch("vastai", "101", 2), "test", null));
        assertEquals("provider_timeout", unknown.code());
        assertTrue(unknown.getMessage().contains("reservation"), unknown.getMessage());
        TrackedInstance t = only(h);
        assertEquals(TrackedInstance.State.PROVISIONING, t.state(), "neither created nor closed: not known yet");
        assertEquals(80, h.committedCents(), "the reservation is kept while it is looked up");
        h.awaitState(t, TrackedInstance.State.WAITING, 15_000);
        assertEquals(vast.instances.keySet().iterator().next(), t.providerId());
        assertEquals(80, h.committedCents());
        assertEquals(0, h.watch.reconcile().path("leaks").size());
    }

    @Test
    void aLaunchInterruptedByARestartIsLookedUpForTheWholeWindowAndGetsItsReservationBack() throws Exception {
        Path dir = Files.createTempDirectory("compute");
        TrackedActions tracked = new TrackedActions(dir.resolve(TrackedActions.FILE), new ObjectMapper());
        TrackedInstance launched = new TrackedInstance("mg-main-gw-1a2b3c4d", "vastai", "main");
        launched.offerId = "101";
        launched.usdPerHour = 0.40;
        launched.estimateCents = 80;
        launched.hours = 2;
        tracked.append(tracked.record("test", launched, "provision", null), "intent", null,
                TrackedInstance.State.PROVISIONING);
        // Created, but the list shows it only after 1.5 s: one list read at start would close it as never created.
        vast.listLagMs = 1500;
        vast.addInstance("mg-main-gw-1a2b3c4d", "running");
        ComputeHarness h = ComputeHarness.start(dir, "gateway.compute.create-lookup-window", "20s");
        harnesses.add(h);
        TrackedInstance t = only(h);
        h.watch.poll();
        assertEquals(TrackedInstance.State.PROVISIONING, t.state(), "not closed on the first empty list");
        h.awaitState(t, TrackedInstance.State.WAITING, 15_000);
        assertEquals(80, h.committedCents(), "the adopted instance has its reservation back");
    }

    @Test
    void twoInstancesWithTheLabelOfAnInterruptedLaunchOneIsAdoptedTheOtherDestroyed() throws Exception {
        Path dir = Files.createTempDirectory("compute");
        TrackedActions tracked = new TrackedActions(dir.resolve(TrackedActions.FILE), new ObjectMapper());
        TrackedInstance launched = new TrackedInstance("mg-main-gw-2b3c4d5e", "runpod", "main");
        launched.estimateCents = 44;
        tracked.append(tracked.record("test", launched, "provision", null), "intent", null,
                TrackedInstance.State.PROVISIONING);
        runpod.addPod("mg-main-gw-2b3c4d5e", "RUNNING");
        runpod.addPod("mg-main-gw-2b3c4d5e", "RUNNING");
        ComputeHarness h = ComputeHarness.start(dir);
        harnesses.add(h);
        TrackedInstance t = only(h);
        h.awaitState(t, TrackedInstance.State.WAITING, 10_000);
        assertEquals(1, runpod.pods.size(), "the duplicate is destroyed");
        assertEquals(t.providerId(), runpod.pods.keySet().iterator().next());
        assertEquals(0, h.watch.reconcile().path("leaks").size());
    }

    @Test
    void aLaunchNeverFoundIsClosedAfterTheWindowAndALateInstanceWithItsLabelIsALeak() throws Exception {
        ComputeHarness h = harness("gateway.compute.create-lookup-window", "1s");
        vast.failNext("PUT", "/api/v0/asks/", 500, 1);
        ComputeException unknown = assertThrows(ComputeException.class,
                () -> h.service.provision(launch("vastai", "101", 2), "test", null));
        assertTrue(unknown.getMessage().contains("reservation"), unknown.getMessage());
        TrackedInstance t = only(h);
        assertEquals(TrackedInstance.State.PROVISIONING, t.state());
        assertEquals(80, h.committedCents());
        h.awaitState(t, TrackedInstance.State.DESTROYED, 10_000);
        assertTrue(t.failure.contains("never created"), t.failure);
        assertEquals(0, h.committedCents(), "released only once the window passed");
        String late = vast.addInstance(t.name(), "running").path("id").asText();
        JsonNode leaks = h.watch.reconcile().path("leaks");
        assertEquals(1, leaks.size(), leaks.toString());
        assertEquals(late, leaks.get(0).path("provider_id").asText());
        assertEquals(t.name(), leaks.get(0).path("label").asText());
    }

    @Test
    void aFailureAfterAdmissionReleasesTheReservation() throws Exception {
        // Boot refuses an upper-case gateway id; this service is built past that check to fail after admission.
        ComputeHarness h = harness("gateway.compute.gateway-id", "GW");
        vast.offers.add(FakeVastAi.offer(104, "RTX 4090", 24564, 6.0, 0.99));
        assertThrows(RuntimeException.class, () -> h.service.provision(launch("vastai", "104", 1), "test", null));
        assertEquals(0, h.committedCents(), "nothing launched, nothing reserved");
        assertTrue(vast.received("PUT", "/api/v0/asks/").isEmpty());
        assertFalse(h.service.all().stream().anyMatch(TrackedInstance::live));
    }
}

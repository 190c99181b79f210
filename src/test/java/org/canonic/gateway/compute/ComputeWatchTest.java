package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.coordination.WebhookReceiver;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The watch over instances the gateway already rents: serving ones are re-read and an action a restart interrupted
 * is finished. Against the fake APIs over loopback HTTP.
 */
@QuarkusTest
class ComputeWatchTest {

    private final List<ComputeHarness> harnesses = new ArrayList<>();
    private FakeVastAi vast;
    private FakeVllm machine;

    @BeforeEach
    void fakes() {
        vast = FakeBackends.vastai();
        vast.reset();
        FakeBackends.runpod().reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL);
        vast.instancePort = machine.port();
    }

    @AfterEach
    void close() {
        harnesses.forEach(ComputeHarness::close);
        machine.close();
        vast.reset();
    }

    private ComputeHarness harness(Path dir) {
        ComputeHarness h = ComputeHarness.start(dir);
        harnesses.add(h);
        return h;
    }

    private static boolean delivered(String type, String instance) throws InterruptedException {
        long until = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < until) {
            if (FakeBackends.webhooks().deliveries().stream().map(WebhookReceiver.Delivery::json)
                    .anyMatch(e -> type.equals(e.path("type").asText())
                            && instance.equals(e.path("data").path("instance").asText()))) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    @Test
    void aServingInstanceTheProviderStoppedIsTakenOutMarkedAndReported() throws Exception {
        // Kept stopped (on-interruption=keep); the default destroys it (ReplacementTest).
        ComputeHarness h = ComputeHarness.start(Files.createTempDirectory("watch"), "gateway.compute.on-interruption",
                "keep");
        harnesses.add(h);
        JsonNode answer = h.service.provision(new ProvisionRequest("vastai", "main", 2, "101", null, null, null),
                "test", null);
        TrackedInstance t = h.service.find(answer.path("instance").path("id").asText());
        h.awaitState(t, TrackedInstance.State.READY, 30_000);
        Fleet fleet = Arc.container().instance(Fleet.class).get();
        assertTrue(fleet.find(t.name()).isPresent());

        vast.outbid(t.providerId());
        h.watch.poll();
        assertEquals(TrackedInstance.State.STOPPED, t.state());
        assertTrue(t.failure.contains("interrupted") && t.failure.contains("stopped"), t.failure);
        assertFalse(fleet.find(t.name()).isPresent(), "its backend left the fleet");
        double ran = t.runningHours(System.currentTimeMillis());
        Thread.sleep(200);
        assertEquals(ran, t.runningHours(System.currentTimeMillis()), "the running rate stopped accruing");
        assertEquals(1.0, h.registry.get("gateway.compute.interruptions").tag("provider", "vastai").counter()
                .count());
        assertTrue(delivered("compute.interrupted", t.name()));
        String tracked = Files.readString(h.dir.resolve(TrackedActions.FILE));
        assertTrue(tracked.lines().anyMatch(l -> l.contains("\"action\":\"interrupted\"") && l.contains(t.name())),
                tracked);
        h.service.handover().destroy(t.name(), true, 1000, "test", null);
    }

    @Test
    void aServingInstanceWhoseContainerExitedFailsAndIsDestroyed() throws Exception {
        ComputeHarness h = harness(Files.createTempDirectory("watch"));
        JsonNode answer = h.service.provision(new ProvisionRequest("vastai", "main", 2, "101", null, null, null),
                "test", null);
        TrackedInstance t = h.service.find(answer.path("instance").path("id").asText());
        h.awaitState(t, TrackedInstance.State.READY, 30_000);
        vast.instances.get(t.providerId()).put("actual_status", "exited");
        h.watch.poll();
        assertEquals(TrackedInstance.State.DESTROYED, t.state(), "on-readiness-failure=destroy");
        assertTrue(t.failure.contains("exited"), t.failure);
        assertTrue(vast.instances.isEmpty());
        assertTrue(delivered("compute.interrupted", t.name()));
    }

    @Test
    void aCleanUpTheProviderRefusedAfterAnInterruptionIsFinishedAfterARestart() throws Exception {
        ComputeHarness h = harness(Files.createTempDirectory("watch"));
        JsonNode answer = h.service.provision(new ProvisionRequest("vastai", "main", 2, "101", null, null, null),
                "test", null);
        TrackedInstance t = h.service.find(answer.path("instance").path("id").asText());
        h.awaitState(t, TrackedInstance.State.READY, 30_000);
        String providerId = t.providerId();

        vast.failNext("DELETE", "/api/v0/instances/", 500, 1);
        vast.outbid(providerId);
        h.watch.poll();
        assertEquals(TrackedInstance.State.STOPPED, t.state(), "the destroy failed: it stays tracked");
        assertEquals("destroy", t.cleanupPending);

        ComputeHarness again = h.restart();
        harnesses.add(again);
        TrackedInstance rebuilt = again.service.find(t.name());
        assertEquals(TrackedInstance.State.STOPPED, rebuilt.state());
        assertEquals("destroy", rebuilt.cleanupPending, "the pending clean-up is in the tracked file");
        again.watch.poll();
        assertEquals(TrackedInstance.State.DESTROYED, rebuilt.state());
        assertFalse(vast.instances.containsKey(providerId), "destroyed at the provider after the restart");
    }

    @Test
    void aDestroyInterruptedByARestartIsFinishedAtStart() throws Exception {
        Path dir = Files.createTempDirectory("watch");
        String providerId = vast.addInstance("mg-main-gw-3c4d5e6f", "running").path("id").asText();
        TrackedActions tracked = new TrackedActions(dir.resolve(TrackedActions.FILE), new ObjectMapper());
        TrackedInstance t = new TrackedInstance("mg-main-gw-3c4d5e6f", "vastai", "main");
        t.offerId = "101";
        t.usdPerHour = 0.40;
        t.estimateCents = 80;
        tracked.append(tracked.record("ops", t, "provision", 4L), "intent", null, TrackedInstance.State.PROVISIONING);
        t.providerId = providerId;
        tracked.append(tracked.record("ops", t, "provision", 4L), "ok", null, TrackedInstance.State.WAITING);
        tracked.append(tracked.record("gateway", t, "ready", null), "ok", null, TrackedInstance.State.READY);
        // kill -9 while the DELETE was in flight: the intent is the last line.
        tracked.append(tracked.record("ops", t, "destroy", 4L), "intent", null, TrackedInstance.State.READY);

        ComputeHarness h = harness(dir);
        TrackedInstance rebuilt = h.service.find("mg-main-gw-3c4d5e6f");
        h.watch.poll();
        assertEquals(TrackedInstance.State.DESTROYED, rebuilt.state());
        assertTrue(vast.instances.isEmpty(), "the destroy the operator asked for is finished");
        List<String> actions = Files.readAllLines(dir.resolve(TrackedActions.FILE)).stream()
                .map(l -> l.replaceAll(".*\"action\":\"([a-z_]+)\".*\"result\":\"([a-z_]+)\".*", "$1:$2")).toList();
        assertEquals("destroy:ok", actions.get(actions.size() - 1), actions.toString());
    }
}

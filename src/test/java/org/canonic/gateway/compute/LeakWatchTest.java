package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The leak watch's count and errors, against the fake APIs over loopback HTTP. */
@QuarkusTest
class LeakWatchTest {

    private FakeVastAi vast;
    private ComputeHarness h;

    @BeforeEach
    void fakes() throws Exception {
        vast = FakeBackends.vastai();
        vast.reset();
        FakeBackends.runpod().reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        h = ComputeHarness.start(Files.createTempDirectory("leaks"));
    }

    @AfterEach
    void close() {
        h.close();
        vast.reset();
    }

    @Test
    void aFailedListKeepsTheLastLeakCountAndCountsTheError() throws Exception {
        vast.addInstance("someone-elses", "running");
        h.watch.reconcile();
        assertEquals(1.0, h.registry.get("gateway.compute.leaks").gauge().value());
        // A tracked instance the provider no longer lists, before a watch tick re-read it.
        JsonNode answer = h.service.provision(new ProvisionRequest("vastai", "main", 1, "101", null, null, null),
                "test", null);
        String providerId = answer.path("instance").path("provider_id").asText();
        vast.instances.remove(providerId);
        JsonNode gone = h.watch.reconcile();
        assertTrue(gone.path("leaks").toString().contains("\"kind\":\"tracked_but_gone\",\"provider\":\"vastai\","
                + "\"provider_id\":\"" + providerId + "\""), gone.toString());
        assertEquals(2.0, h.registry.get("gateway.compute.leaks").gauge().value());
        vast.listOverride = "{\"instances\":\"gone\"}";
        JsonNode report = h.watch.reconcile();
        assertEquals("provider_bad_answer", report.path("errors").get(0).path("code").asText(), report.toString());
        assertEquals(2.0, h.registry.get("gateway.compute.leaks").gauge().value(),
                "a list that fails is not 'no leaks': the alert must not clear when the API drifts");
        assertEquals(1.0, h.registry.get("gateway.compute.list.errors").tag("provider", "vastai").counter().count());
    }
}

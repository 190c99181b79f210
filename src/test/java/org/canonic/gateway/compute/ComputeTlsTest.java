package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rented Vast.ai machine is reached over TLS with the certificate the gateway made for it, and only with that one:
 * end to end over loopback, the fake Vast.ai API handing the launch's identity to a fake vLLM that serves TLS.
 */
@QuarkusTest
class ComputeTlsTest {

    private FakeVastAi vast;
    private FakeVllm machine;
    private ComputeHarness harness;
    private volatile FakeVllm launched;

    @io.quarkus.test.common.http.TestHTTPResource("/")
    java.net.URL gatewayUrl;

    @BeforeEach
    void fakes() {
        vast = FakeBackends.vastai();
        vast.reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        InstanceTls.Identity throwaway = InstanceTls.create("someone-else", Instant.now());
        machine = FakeBackends.extraTls(FakeBackends.COMPUTE_MODEL, throwaway.certificatePem(),
                throwaway.privateKeyPem());
        vast.instancePort = machine.port();
    }

    @AfterEach
    void close() {
        if (harness != null) {
            harness.service.all().stream().filter(TrackedInstance::live).forEach(t ->
                    harness.service.handover().destroy(t.name(), true, 1000, "test", null));
            harness.close();
        }
        machine.close();
        if (launched != null) {
            launched.close();
        }
        vast.reset();
    }

    private TrackedInstance launch() throws Exception {
        harness = ComputeHarness.start(Files.createTempDirectory("tls"), "gateway.compute.instance-tls", "true");
        JsonNode answer = harness.service.provision(new ProvisionRequest("vastai", "main", 1, "101", null, null,
                null), "test", null);
        return harness.service.find(answer.path("instance").path("id").asText());
    }

    private void poll(TrackedInstance t, long ms) throws InterruptedException {
        long until = System.currentTimeMillis() + ms;
        while (t.state() != TrackedInstance.State.READY && System.currentTimeMillis() < until) {
            harness.watch.poll();
            Thread.sleep(100);
        }
    }

    @Test
    void theMachineServesItsOwnCertificateAndTheGatewayTrustsExactlyThatOne() throws Exception {
        // The machine comes up with what the launch gave it, on the port the provider maps.
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        vast.instancePort = port;
        vast.onCreate = body -> launched = FakeBackends.extraTlsLater(FakeBackends.COMPUTE_MODEL,
                body.path("env").path("MG_TLS_CERT").asText(), body.path("env").path("MG_TLS_KEY").asText(), port);
        TrackedInstance t = launch();
        poll(t, 30_000);
        assertEquals(TrackedInstance.State.READY, t.state(), "failure: " + t.failure + ", message: " + t.message);
        assertTrue(t.endpoint.startsWith("https://127.0.0.1:"), t.endpoint);
        LiveBackend backend = Arc.container().instance(Fleet.class).get().find(t.name()).orElseThrow();
        assertTrue(backend.spec().endpoint().ssl());
        assertTrue(backend.spec().pinnedCertificate().contains("BEGIN CERTIFICATE"));
        JsonNode create = vast.received("PUT", "/api/v0/asks/101/").get(0).body();
        assertEquals(create.path("env").path("MG_TLS_CERT").asText(), backend.spec().pinnedCertificate());
        assertEquals("ssh", create.path("runtype").asText());

        // A chat on the route goes to it (first in route main), encrypted, with the instance's own key.
        GatewayClient gateway = new GatewayClient(gatewayUrl.toURI());
        HttpResponse<String> chat = gateway.post("/v1/chat/completions", GatewayClient.chat("main-model", false));
        assertEquals(200, chat.statusCode(), chat.body());
        String key = Files.readString(harness.dir.resolve("compute-keys").resolve(t.name() + ".key")).strip();
        assertEquals("Bearer " + key, launched.lastCompletion().headers.get("authorization"));
    }

    @Test
    void aMachineWithAnotherCertificateIsNeverTrusted() throws Exception {
        // The launch's identity never reaches the machine: whatever answers on its address presents another one.
        TrackedInstance t = launch();
        poll(t, 3_000);
        assertNotEquals(TrackedInstance.State.READY, t.state());
        LiveBackend backend = Arc.container().instance(Fleet.class).get().find(t.name()).orElseThrow();
        assertTrue(!backend.routable(), "its probes fail: " + backend.snapshot().reason());
        assertTrue(machine.completionRequests().isEmpty(), "nothing was sent to it");
        assertTrue(URI.create(t.endpoint).getScheme().equals("https"));
    }
}

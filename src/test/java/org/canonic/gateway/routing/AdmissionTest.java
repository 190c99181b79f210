package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admission to backends under their adaptive limits (here at most {@link AdmissionProfile#LIMIT} per backend): a full
 * backend queues requests (FIFO, bounded), a slow one is given fewer, a request whose client left is out of the queue
 * at once, and no request waits longer than the bound before its 429.
 */
@QuarkusTest
@TestProfile(AdmissionProfile.class)
class AdmissionTest extends GatewayTest {

    private AdminView admin;

    @BeforeEach
    void idle() throws InterruptedException {
        resetBreakers();
        admin = new AdminView(gateway);
        for (String name : List.of("alpha", "beta", "omega")) {
            // What an earlier test left in flight has ended (its streams were closed).
            admin.await(name, backend -> backend.get("inFlight").asInt() == 0
                    && backend.get("waiting").asInt() == 0, 10_000);
        }
        // A test that made alpha slow left its limit low: fast answers bring it back.
        for (int i = 0; i < 100 && admin.backend("alpha").get("maxConcurrency").asInt() < AdmissionProfile.LIMIT;
             i++) {
            gateway.post("/v1/chat/completions", chat("solo-model", true));
        }
        FakeBackends.resetAll();
    }

    @Test
    void requestsBeyondTheLimitWaitForASlotAndAllComplete() throws Exception {
        alpha().always(Behavior.stream(4).tokenDelay(50)); // streams of ~200 ms
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 3 * AdmissionProfile.LIMIT; i++) {
            answers.add(gateway.postAsync("/v1/chat/completions", chat("solo-model", true)));
        }
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
            HttpResponse<String> response = answer.get(10, TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body());
            assertTrue(response.body().endsWith("data: [DONE]\n\n"), response.body());
            // A stream that waited past the keep-alive interval got its head early; the provider is then in-band.
            assertTrue("alpha".equals(response.headers().firstValue("x-gateway-provider").orElse(null))
                    || response.body().contains(": provider=alpha "), "served by the preferred backend after"
                    + " waiting, not spilled: " + response.headers().map() + " " + response.body());
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(elapsedMs >= 3 * 200 - 50, "three rounds of " + AdmissionProfile.LIMIT + " (they queued), took "
                + elapsedMs + " ms");
        assertEquals(3 * AdmissionProfile.LIMIT, alpha().completionRequests().size());
        assertEquals(0, omega().completionRequests().size());
        JsonNode view = admin.backend("alpha");
        assertEquals("adaptive", view.get("concurrency").asText());
        assertEquals(AdmissionProfile.LIMIT, view.get("maxConcurrency").asInt());
    }

    @Test
    void aSlowBackendsLimitShrinksAndTheOverflowGoesToTheNextCandidate() throws Exception {
        alpha().always(Behavior.stream(2));
        for (int i = 0; i < 5; i++) {
            assertEquals(200, gateway.post("/v1/chat/completions", chat("main-model", true)).statusCode());
        }
        assertEquals(AdmissionProfile.LIMIT, admin.backend("alpha").get("maxConcurrency").asInt());
        // Alpha's time to first token goes from milliseconds to 400 ms: requests queue inside it.
        alpha().always(Behavior.stream(2).firstTokenDelay(400));
        for (int i = 0; i < 3; i++) {
            assertEquals(200, gateway.post("/v1/chat/completions", chat("main-model", true)).statusCode());
        }
        assertEquals(1, admin.backend("alpha").get("maxConcurrency").asInt(), "alpha's limit shrank");
        String metrics = management.get("/q/metrics").body();
        assertTrue(metrics.contains("gateway_backend_concurrency_limit{backend=\"alpha\"} 1.0"), "limit gauge");
        assertTrue(metrics.contains("gateway_backend_queue_depth{backend=\"alpha\"} 0.0"), "queue gauge");

        alpha().always(Behavior.stream(60).firstTokenDelay(400).tokenDelay(50));
        try (RawHttp holding = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", true))) {
            holding.readUntil("tok0");
            int alphaBefore = alpha().completionRequests().size();
            HttpResponse<String> overflow = gateway.post("/v1/chat/completions", chat("main-model", false));
            assertEquals(200, overflow.statusCode(), overflow.body());
            assertEquals("beta", overflow.headers().firstValue("x-gateway-provider").orElse(null),
                    "alpha's one slot is taken: the request spilled to the next candidate");
            assertEquals(alphaBefore, alpha().completionRequests().size());
        }
    }

    @Test
    void aClientThatLeavesWhileQueuedLeavesTheQueueAtOnce() throws Exception {
        alpha().always(Behavior.stream(60).tokenDelay(50));
        List<RawHttp> streams = new ArrayList<>();
        try {
            for (int i = 0; i < AdmissionProfile.LIMIT; i++) {
                RawHttp stream = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("solo-model", true));
                stream.readUntil("tok0");
                streams.add(stream);
            }
            RawHttp queued = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("solo-model", true));
            admin.await("alpha", backend -> backend.get("waiting").asInt() == 1, 2000);
            queued.close();
            long closed = System.nanoTime();
            admin.await("alpha", backend -> backend.get("waiting").asInt() == 0, 2000);
            long leftMs = (System.nanoTime() - closed) / 1_000_000;
            assertTrue(leftMs < AdmissionProfile.WAIT_MS / 3, "left the queue " + leftMs + " ms after its client");
            assertEquals(AdmissionProfile.LIMIT, admin.backend("alpha").get("inFlight").asInt());
            // Had it stayed queued, the end of its wait would have sent it to omega.
            Thread.sleep(AdmissionProfile.WAIT_MS + 300);
            assertEquals(AdmissionProfile.LIMIT, alpha().completionRequests().size(), "nothing sent for it");
            assertEquals(0, omega().completionRequests().size(), "nothing sent for it");
        } finally {
            closeAll(streams);
        }
        admin.await("alpha", backend -> backend.get("inFlight").asInt() == 0, 5000);
    }

    @Test
    void noRequestWaitsLongerThanTheBoundThen429WithRetryAfter() throws Exception {
        alpha().always(Behavior.stream(100).tokenDelay(50));
        omega().always(Behavior.stream(100).tokenDelay(50));
        List<RawHttp> streams = new ArrayList<>();
        try {
            // Two streams fill alpha; two more wait out the bound there and spill to omega, filling it.
            for (int i = 0; i < 2 * AdmissionProfile.LIMIT; i++) {
                streams.add(RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("solo-model", true)));
            }
            for (RawHttp stream : streams) {
                stream.readUntil("tok0");
            }
            assertEquals(AdmissionProfile.LIMIT, alpha().completionRequests().size());
            assertEquals(AdmissionProfile.LIMIT, omega().completionRequests().size());

            long start = System.nanoTime();
            HttpResponse<String> refused = gateway.post("/v1/chat/completions", chat("solo-model", false));
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(429, refused.statusCode(), refused.body());
            assertTrue(refused.headers().firstValue("retry-after").isPresent(), "Retry-After");
            assertEquals("backends_at_capacity", json(refused.body()).at("/error/code").asText());
            assertTrue(waitedMs >= AdmissionProfile.WAIT_MS - 50, "waited the bound first: " + waitedMs + " ms");
            assertTrue(waitedMs <= AdmissionProfile.WAIT_MS + 500, "one bound for all candidates: " + waitedMs
                    + " ms");
            assertEquals(AdmissionProfile.LIMIT, alpha().completionRequests().size());
            assertEquals(AdmissionProfile.LIMIT, omega().completionRequests().size());
        } finally {
            closeAll(streams);
        }
    }

    private static void closeAll(List<RawHttp> streams) throws java.io.IOException {
        for (RawHttp stream : streams) {
            stream.close();
        }
    }
}

package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
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

/** One tenant cannot take the gateway from the others: per-key limits, fair backend slots, stalled readers. */
@QuarkusTest
@TestProfile(TenantsProfile.class)
class TenantIsolationTest extends GatewayTest {

    private HttpResponse<String> post(String key, String body) {
        return gateway.post("/v1/chat/completions", body, "authorization", "Bearer " + key);
    }

    private static void assertRateLimited(HttpResponse<String> response, String limit) {
        assertEquals(429, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("retry-after").isPresent(), "Retry-After is set");
        JsonNode error = json(response.body()).get("error");
        assertEquals("rate_limit_exceeded", error.get("code").asText(), response.body());
        assertTrue(error.get("message").asText().contains(limit), response.body());
    }

    /**
     * Issue 25, defect 4: one key's half-sent bodies held the whole body budget, and every other client's prompt got
     * 503 body_budget_exhausted. A key holds at most its share (a quarter here); beyond it its own bodies are refused
     * with 429, and another key's prompt is still read.
     */
    @Test
    void oneKeyHoldingHalfSentBodiesCannotTakeTheBodyBudgetFromAnother() throws Exception {
        int arrived = 1024 * 1024;
        List<RawHttp> held = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        try {
            // 17 x 1 MiB would hold more than the whole 16 MiB budget.
            for (int i = 0; i < 17; i++) {
                RawHttp client = RawHttp.connect(gatewayPort()).send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                        + "Authorization: Bearer " + TenantsProfile.A + "\r\nContent-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(arrived) + "\r\n");
                // A chunked body announces no length: it holds what arrived, and it never ends.
                client.send(new byte[arrived]);
                held.add(client);
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (org.canonic.gateway.testing.Metrics.scrape(management).sum("gateway_body_budget_used_bytes")
                    < 3 * arrived && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            String prompt = "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\""
                    + "lorem ipsum ".repeat(5_000) + "\"}]}";
            HttpResponse<String> other = post(TenantsProfile.B, prompt);
            assertEquals(200, other.statusCode(), other.body());

            for (RawHttp client : held) {
                client.closedWithin(50); // a refused body lingers (its rest is discarded) before its connection closes
                if (!client.seen().isEmpty()) {
                    refusals.add(client.seen());
                }
            }
            assertTrue(!refusals.isEmpty() && refusals.size() <= 14, refusals.size() + " of key a's bodies refused");
            String refusal = refusals.get(0);
            assertEquals(429, RawHttp.status(refusal), refusal);
            assertTrue(refusal.contains("\"body_budget_share_exhausted\""), refusal);
        } finally {
            for (RawHttp client : held) {
                client.close();
            }
        }
    }

    @Test
    void aKeyOverItsRequestsPerMinuteGets429WithRetryAfterAndOthersAreServed() {
        for (int i = 0; i < 3; i++) {
            assertEquals(200, post(TenantsProfile.RPM, chat("main-model", false)).statusCode());
        }
        int before = alpha().completionRequests().size() + beta().completionRequests().size();
        HttpResponse<String> limited = post(TenantsProfile.RPM, chat("main-model", false));
        assertRateLimited(limited, "3 requests per minute");
        assertTrue(Long.parseLong(limited.headers().firstValue("retry-after").orElseThrow()) >= 1);
        assertEquals(before, alpha().completionRequests().size() + beta().completionRequests().size(),
                "nothing forwarded");
        assertEquals(200, post(TenantsProfile.A, chat("main-model", false)).statusCode(), "another key is served");
    }

    @Test
    void tokensPerMinuteCountNTimesTheCompletionLimitAndAreSettledWithRealUsage() {
        String tooBig = "{\"model\":\"main-model\",\"n\":3,\"max_tokens\":400,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> refused = post(TenantsProfile.TPM, tooBig);
        assertEquals(429, refused.statusCode(), refused.body());
        assertTrue(json(refused.body()).at("/error/message").asText().contains("n x max_tokens"), refused.body());

        // 2 x 300 = 600 (+ prompt) reserved, ~14 really used: settled, so the next ones fit again and again.
        String fits = "{\"model\":\"main-model\",\"n\":2,\"max_tokens\":300,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> served = post(TenantsProfile.TPM, fits);
            assertEquals(200, served.statusCode(), "request " + i + ": " + served.body());
        }
    }

    @Test
    void aKeyAtItsConcurrencyLimitGets429() throws Exception {
        alpha().always(Behavior.stream(20).tokenDelay(50));
        try (RawHttp first = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", true),
                "authorization: Bearer " + TenantsProfile.ONE + "\r\n")) {
            first.readUntil("data:");
            assertRateLimited(post(TenantsProfile.ONE, chat("main-model", false)), "1 requests in flight");
        }
        Thread.sleep(300);
        alpha().always(Behavior.stream(2));
        assertEquals(200, post(TenantsProfile.ONE, chat("main-model", false)).statusCode(), "the slot came back");
    }

    @Test
    void aReleasedSlotGoesToTheKeyHoldingFewerThanTheOneThatFilledTheBackend() throws Exception {
        // a's first stream ends after ~0.5 s, its second after ~4 s; the queued requests take ~0.3 s each.
        alpha().then(Behavior.stream(5).tokenDelay(100), Behavior.stream(40).tokenDelay(100))
                .always(Behavior.stream(3).tokenDelay(100));
        List<RawHttp> aStreams = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                RawHttp stream = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("solo-model", true),
                        "authorization: Bearer " + TenantsProfile.A + "\r\n");
                stream.readUntil("data:");
                aStreams.add(stream);
            }
            // Solo has alpha alone (2 slots, both held by key a): a's third request queues first, b's second.
            CompletableFuture<HttpResponse<String>> aThird = async(TenantsProfile.A);
            Thread.sleep(200);
            CompletableFuture<HttpResponse<String>> bFirst = async(TenantsProfile.B);
            HttpResponse<String> b = bFirst.get(10, TimeUnit.SECONDS);
            HttpResponse<String> a = aThird.get(10, TimeUnit.SECONDS);
            assertEquals(200, b.statusCode(), b.body());
            assertEquals(200, a.statusCode(), a.body());
            long bDone = completedAt(b);
            long aDone = completedAt(a);
            // Without fairness a's earlier request takes the first free slot and b the next one, so b ends last.
            assertTrue(aDone - bDone > 150_000_000L, "b (holding none) got the first free slot, before a's earlier"
                    + " request (a held 2), which only got the slot b gave back");
        } finally {
            for (RawHttp stream : aStreams) {
                stream.close();
            }
        }
    }

    private CompletableFuture<HttpResponse<String>> async(String key) {
        return CompletableFuture.supplyAsync(() -> {
            HttpResponse<String> response = post(key, chat("solo-model", false));
            completions.put(response, System.nanoTime());
            return response;
        });
    }

    private final java.util.Map<HttpResponse<String>, Long> completions = new java.util.concurrent.ConcurrentHashMap<>();

    private long completedAt(HttpResponse<String> response) {
        return completions.get(response);
    }

    @Test
    void aClientThatReadsNothingLosesItsSlotAndItsUpstreamRequest() throws Exception {
        // Events of ~60 KB every 10 ms: far more than the sockets buffer, so the gateway's write queue fills long
        // before the backend is done (10 s).
        alpha().always(Behavior.stream(1000).tokenDelay(10).deltaExtra("\"padding\":\"" + "x".repeat(60_000) + "\""));
        try (RawHttp silent = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("solo-model", true),
                "authorization: Bearer " + TenantsProfile.A + "\r\n")) {
            var upstream = alpha().awaitCompletion(Duration.ofSeconds(5));
            long closedAt = upstream.closedEarly.get(TenantsProfile.STALL_MS + 5000, TimeUnit.MILLISECONDS);
            long afterMs = (closedAt - upstream.receivedNanos) / 1_000_000;
            assertTrue(afterMs >= TenantsProfile.STALL_MS - 200, "not before the stall timeout: " + afterMs + " ms");
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        String ledger;
        do {
            Thread.sleep(100);
            ledger = Files.readString(FakeBackends.ledger());
        } while (!ledger.contains("client_stalled") && System.nanoTime() < deadline);
        assertTrue(ledger.contains("\"error_code\":\"client_stalled\""), "the ledger says why it ended");
        alpha().always(Behavior.stream(2));
        for (int i = 0; i < 2; i++) {
            assertEquals(200, post(TenantsProfile.B, chat("solo-model", false)).statusCode(), "both slots are free");
        }
    }
}

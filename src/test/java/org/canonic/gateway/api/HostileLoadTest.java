package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.HostileProfile;
import org.canonic.gateway.testing.LedgerLines;
import org.canonic.gateway.testing.LogCapture;
import org.canonic.gateway.testing.Metrics;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.canonic.gateway.testing.FakeBackends.large;
import static org.canonic.gateway.testing.FakeBackends.medium;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.FakeBackends.small;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile load, scaled to a test heap by a small body budget (see {@link HostileProfile}): many big non-stream
 * answers at once, and many requests that announce a body and never send it. The gateway must hold no more than its
 * budget, refuse what does not fit with a retryable error, keep its health, metrics and admin views fast, and leave a
 * ledger line for every request.
 */
@QuarkusTest
@TestProfile(HostileProfile.class)
class HostileLoadTest extends GatewayTest {

    private static final String USED = "gateway_body_budget_used_bytes";
    private static final String LIMIT = "gateway_body_budget_limit_bytes";
    private static final String REFUSALS = "gateway_body_budget_refusals_total";
    private static final List<String> CONTROL = List.of("/q/health/live", "/q/health/ready", "/q/metrics",
            "/admin/backends");

    private LogCapture logs;

    @BeforeEach
    void captureLogs() {
        logs = LogCapture.start();
    }

    @AfterEach
    void noErrorWithoutARequestOrBackend() {
        logs.close();
        assertEquals(List.of(), logs.errorsWithoutContext(), "every error names a request or a backend");
    }

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void fortyBigAnswersAtOnceStayWithinTheBudgetWhileHealthMetricsAndAdminStayFast() throws Exception {
        int size = 1_000_000;
        // 40 answers of 1 MB, each collected over about 1.6 s: far more than the 16 MiB budget at once.
        for (FakeVllm fake : List.of(small(), medium(), large(), omega())) {
            fake.always(Behavior.bigCompletion(size).pieceDelay(100));
        }
        double refusedBefore = Metrics.scrape(management).sum(REFUSALS, "body", "answer");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            answers.add(http.sendAsync(HttpRequest.newBuilder(gatewayUri().resolve("/v1/chat/completions"))
                    .header("content-type", "application/json").timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString(chat("fit-model", false))).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }

        List<Long> latencies = new ArrayList<>();
        double mostUsed = 0;
        while (!answers.stream().allMatch(CompletableFuture::isDone)) {
            for (String path : CONTROL) {
                long start = System.nanoTime();
                // /q/* is on the management interface, /admin on the API port.
                HttpResponse<String> control = (path.startsWith("/q/") ? management : gateway).get(path,
                        "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
                latencies.add((System.nanoTime() - start) / 1_000_000);
                assertEquals(200, control.statusCode(), path + ": " + control.body());
                if (path.equals("/q/metrics")) {
                    Metrics metrics = Metrics.scrape(management);
                    assertEquals(HostileProfile.BODY_BUDGET_BYTES, metrics.sum(LIMIT), "the budget is exported");
                    mostUsed = Math.max(mostUsed, metrics.sum(USED));
                }
            }
        }
        assertControlRequestsFast(latencies);
        assertTrue(mostUsed <= HostileProfile.BODY_BUDGET_BYTES, "bytes held for bodies: " + mostUsed);

        int answered = 0;
        for (CompletableFuture<HttpResponse<String>> future : answers) {
            HttpResponse<String> answer = future.get();
            if (answer.statusCode() == 200) {
                answered++;
                JsonNode body = json(answer.body());
                assertEquals(size, body.at("/choices/0/message/content").asText().length());
                assertEquals("length", body.at("/choices/0/finish_reason").asText());
                assertTrue(body.at("/gateway/provider_used").isTextual(), "the gateway object is added");
            } else {
                assertEquals(503, answer.statusCode(), answer.body());
                assertTrue(answer.headers().firstValue("retry-after").isPresent(), "a refusal says when to retry");
                JsonNode error = json(answer.body()).path("error");
                assertTrue(error.has("message") && error.has("type") && error.has("code"), answer.body());
                assertTrue(error.get("message").asText().contains("memory budget"), answer.body());
            }
        }
        assertTrue(answered >= 1, "some answers fit the budget and were delivered");
        assertTrue(Metrics.scrape(management).sum(REFUSALS, "body", "answer") > refusedBefore,
                "the budget was exhausted and answers were refused");
        awaitBudgetEmpty();
    }

    /**
     * Liveness, readiness, metrics and admin answer within a second while the proxy path is saturated. The machine
     * running the tests is shared: a few samples may catch a stall of the whole JVM, which no gateway design avoids.
     */
    private static void assertControlRequestsFast(List<Long> latencies) {
        List<Long> sorted = latencies.stream().sorted().toList();
        long p90 = sorted.get(Math.max(0, (int) Math.ceil(sorted.size() * 0.9) - 1));
        long max = sorted.get(sorted.size() - 1);
        assertTrue(p90 < 1000, "90% of control requests must answer within 1 s: " + sorted);
        assertTrue(max < 5000, "no control request may wait for the proxy path: " + sorted);
    }

    @Test
    void halfSentBodiesHoldOnlyWhatArrivedAndEachEndsWith408AndALedgerLine() throws Exception {
        int n = 50;
        List<RawHttp> clients = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                clients.add(RawHttp.connect(gatewayPort()).send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/json\r\nx-request-id: " + run + "-half-" + i + "\r\n"
                        + "Content-Length: 2097152\r\n\r\n{\"model\":"));
            }
            Thread.sleep(200);
            List<Long> latencies = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                for (String path : CONTROL) {
                    long start = System.nanoTime();
                    HttpResponse<String> control = (path.startsWith("/q/") ? management : gateway).get(path,
                            "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
                    latencies.add((System.nanoTime() - start) / 1_000_000);
                    assertEquals(200, control.statusCode(), path);
                }
            }
            assertControlRequestsFast(latencies);
            double used = Metrics.scrape(management).sum(USED);
            assertTrue(used <= n * 64, "only the bytes that arrived are held, not the declared length: " + used);

            for (RawHttp client : clients) {
                String answer = client.readResponse();
                assertEquals(408, RawHttp.status(answer), answer);
                JsonNode error = json(RawHttp.body(answer)).path("error");
                assertEquals("request_timeout", error.path("code").asText(), answer);
                assertEquals("invalid_request_error", error.path("type").asText(), answer);
                assertTrue(client.closedWithin(2000), "the connection is closed after the 408");
            }
        } finally {
            for (RawHttp client : clients) {
                client.close();
            }
        }
        Map<String, List<JsonNode>> lines = LedgerLines.await(FakeBackends.hostileLedgerDir(), run + "-half-", n, 5000);
        lines.forEach((id, records) -> {
            assertEquals(1, records.size(), "exactly one line for " + id);
            assertEquals(408, records.get(0).get("status").asInt(), records.get(0).toString());
            assertEquals("request_timeout", records.get(0).get("error_code").asText());
        });
        for (FakeVllm fake : FakeBackends.all()) {
            assertEquals(0, fake.completionRequests().size(), "nothing is forwarded");
        }
        awaitBudgetEmpty();
    }

    private void awaitBudgetEmpty() throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        double used = Metrics.scrape(management).sum(USED);
        while (used != 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            used = Metrics.scrape(management).sum(USED);
        }
        assertEquals(0, used, "every byte is returned to the budget when its request ends");
    }
}

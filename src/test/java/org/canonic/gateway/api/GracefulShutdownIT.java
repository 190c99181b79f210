package org.canonic.gateway.api;

import io.vertx.core.Vertx;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.PackagedGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.canonic.gateway.testing.GatewayClient.dataPayloads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM to the packaged jar with a stream in flight: readiness turns DOWN at once, new requests are sent away with
 * 503, the stream runs to its end (or, past the drain deadline, ends with an error event and [DONE]), the ledger
 * keeps every line, and the process exits 0.
 */
class GracefulShutdownIT {

    private static final String MODEL = "fake/shutdown-model";
    private static Vertx vertx;
    private static FakeVllm fake;

    @BeforeAll
    static void fake() {
        vertx = Vertx.vertx();
        fake = FakeVllm.start(vertx, MODEL);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    private static PackagedGateway start(Path dir) throws Exception {
        return start(dir, "3s");
    }

    private static PackagedGateway start(Path dir, String drainDeadline) throws Exception {
        PackagedGateway gateway = PackagedGateway.start(Map.of("GATEWAY_AUTH", "none",
                "GATEWAY_STATE_DIR", dir.resolve("state").toString(),
                "GATEWAY_LEDGER_PATH", dir.resolve("ledger.jsonl").toString(),
                "GATEWAY_DRAIN_DEADLINE", drainDeadline,
                "VASTAI_BASE_URL", fake.baseUrl(), "VASTAI_MODEL", MODEL));
        gateway.awaitRoute("chat");
        return gateway;
    }

    @Test
    void aStreamInFlightFinishesWhileNewRequestsAreSentAwayAndTheProcessExitsZero() throws Exception {
        fake.reset();
        fake.always(Behavior.stream(30).tokenDelay(50));
        Path dir = Files.createTempDirectory("shutdown-it");
        PackagedGateway gateway = start(dir);
        CompletableFuture<HttpResponse<String>> stream = gateway.client().postAsync("/v1/chat/completions",
                chat("qwen", true));
        fake.awaitCompletion(Duration.ofSeconds(5));

        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
            try {
                return gateway.terminate(30);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (gateway.management().get("/q/health/ready").statusCode() != 503) {
            assertTrue(System.nanoTime() < deadline, "readiness must turn DOWN at once");
            Thread.sleep(20);
        }
        HttpResponse<String> refused = gateway.client().post("/v1/chat/completions", chat("qwen", false));
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("retry-after").isPresent());
        assertEquals("close", refused.headers().firstValue("connection").orElse(null));
        assertTrue(refused.body().contains("\"code\":\"gateway_shutting_down\""), refused.body());
        // The model list too: a picker that lists models here would then send its request to a closing gateway.
        HttpResponse<String> models = gateway.client().get("/v1/models");
        assertEquals(503, models.statusCode(), models.body());
        assertTrue(models.body().contains("\"code\":\"gateway_shutting_down\""), models.body());
        assertEquals("close", models.headers().firstValue("connection").orElse(null));

        HttpResponse<String> finished = stream.get(20, TimeUnit.SECONDS);
        List<String> data = dataPayloads(finished.body());
        assertEquals("[DONE]", data.get(data.size() - 1));
        assertTrue(finished.body().contains("tok29") && !finished.body().contains("\"error\""), finished.body());

        assertEquals(0, exit.get(30, TimeUnit.SECONDS), gateway.output());
        List<String> ledger = Files.readAllLines(dir.resolve("ledger.jsonl"));
        assertEquals(2, ledger.size(), String.join("\n", ledger));
        assertTrue(ledger.stream().anyMatch(line -> line.contains("\"outcome\":\"completed\"")
                && line.contains("\"stream\":true")), String.join("\n", ledger));
        assertTrue(ledger.stream().anyMatch(line -> line.contains("gateway_shutting_down")));
    }

    @Test
    void aStreamStillOpenAtTheDrainDeadlineEndsWithAnErrorEventAndDone() throws Exception {
        fake.reset();
        fake.always(Behavior.stream(400).tokenDelay(50));
        Path dir = Files.createTempDirectory("shutdown-it");
        PackagedGateway gateway = start(dir);
        CompletableFuture<HttpResponse<String>> stream = gateway.client().postAsync("/v1/chat/completions",
                chat("qwen", true));
        fake.awaitCompletion(Duration.ofSeconds(5));
        Thread.sleep(300);

        long start = System.nanoTime();
        assertEquals(0, gateway.terminate(30), gateway.output());
        long stoppedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(stoppedMs < 10_000, "stopped after the 3 s deadline, not after the stream: " + stoppedMs + " ms");

        HttpResponse<String> ended = stream.get(5, TimeUnit.SECONDS);
        List<String> data = dataPayloads(ended.body());
        assertEquals("[DONE]", data.get(data.size() - 1), ended.body());
        assertTrue(data.get(data.size() - 2).contains("shutting down"), data.get(data.size() - 2));
        assertTrue(Files.readString(dir.resolve("ledger.jsonl")).contains("\"outcome\":\"truncated\""),
                "the cut stream has its ledger line");
    }

    /**
     * Issue 25, defect 11: a second SIGTERM halted the process with records lost, those of requests still in flight
     * and of requests that had finished. Now every finished request keeps its line and every request in flight gets
     * a {@code terminated} one, and the halt comes within its bound.
     */
    @Test
    void aSecondSigtermRecordsEveryRequestFinishedOrInFlightBeforeItHalts() throws Exception {
        fake.reset();
        Path dir = Files.createTempDirectory("shutdown-it");
        // A drain deadline far away: only the second SIGTERM ends the streams.
        PackagedGateway gateway = start(dir, "60s");
        int finished = 12;
        for (int i = 0; i < finished; i++) {
            assertEquals(200, gateway.client().post("/v1/chat/completions", chat("qwen", false)).statusCode());
        }
        fake.always(Behavior.stream(400).tokenDelay(50));
        int inFlight = 8;
        for (int i = 0; i < inFlight; i++) {
            gateway.client().postAsync("/v1/chat/completions", chat("qwen", true));
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (fake.completionRequests().size() < finished + inFlight) {
            assertTrue(System.nanoTime() < deadline, "the streams reached the backend");
            Thread.sleep(20);
        }
        Thread.sleep(300);

        gateway.process().destroy();
        Thread.sleep(1_000);
        long start = System.nanoTime();
        gateway.process().destroy();
        assertTrue(gateway.process().waitFor(10, TimeUnit.SECONDS), "halted: " + gateway.output());
        long haltMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(haltMs < 4_000, "halted within its bound: " + haltMs + " ms");

        List<String> ledger = Files.readAllLines(dir.resolve("ledger.jsonl"));
        assertEquals(finished, ledger.stream().filter(line -> line.contains("\"outcome\":\"completed\"")).count(),
                String.join("\n", ledger));
        assertEquals(inFlight, ledger.stream().filter(line -> line.contains("\"outcome\":\"terminated\"")).count(),
                String.join("\n", ledger));
        assertEquals(finished + inFlight, ledger.size(), String.join("\n", ledger));
    }
}

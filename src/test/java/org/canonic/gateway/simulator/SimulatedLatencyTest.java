package org.canonic.gateway.simulator;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.canonic.gateway.simulator.SimulatorHarness.chat;
import static org.canonic.gateway.simulator.SimulatorHarness.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator's latency model seen from outside, over real HTTP: prefix caching, batching, queueing, KV pressure
 * and stalls. Timings are compared with each other, with wide margins, never with tight absolute values: steps only
 * ever last longer than planned on a loaded machine.
 */
class SimulatedLatencyTest {

    private static final String HITS = "vllm:prefix_cache_hits_total";
    private static final String WAITING = "vllm:num_requests_waiting";
    private static final String RUNNING = "vllm:num_requests_running";

    @Test
    void aRepeatedLongPromptComesBackMuchFasterFromThePrefixCache() throws Exception {
        try (SimulatorHarness simulator = SimulatorHarness.start()) {
            String request = chat(text("cold", 8000), 4, false, true);
            SimulatorHarness.Streamed cold = simulator.stream(request);
            double hitsAfterCold = simulator.metric(HITS);
            SimulatorHarness.Streamed cached = simulator.stream(request);
            double hitsAfterCached = simulator.metric(HITS);

            assertEquals(200, cold.status());
            assertEquals(0, hitsAfterCold);
            // ~8000 prompt tokens at 81 µs each: ~0.66 s cold; one block and a step's overhead, ~11 ms, cached.
            assertTrue(cold.firstDataMillis() >= 500, "cold prefill of 8k tokens: " + cold.firstDataMillis() + " ms");
            assertTrue(cached.firstDataMillis() * 4 < cold.firstDataMillis(),
                    "cached " + cached.firstDataMillis() + " ms vs cold " + cold.firstDataMillis() + " ms");
            assertTrue(hitsAfterCached - hitsAfterCold >= 7900, "hit tokens: " + (hitsAfterCached - hitsAfterCold));
        }
    }

    @Test
    void concurrentStreamsDecodeInTheSameStepsSoSixTakeAboutAsLongAsOne() throws Exception {
        try (SimulatorHarness simulator = SimulatorHarness.start()) {
            String request = chat("batch me", 40, true, true);
            long single = simulator.stream(request).totalMillis();
            long start = System.nanoTime();
            List<CompletableFuture<SimulatorHarness.Streamed>> streams = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                streams.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return simulator.stream(request);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            for (CompletableFuture<SimulatorHarness.Streamed> stream : streams) {
                assertEquals(40 + 4, stream.get().data().size(), "role, 40 tokens, finish, usage, [DONE]");
            }
            long together = (System.nanoTime() - start) / 1_000_000;
            // One after the other would take 6x; batched, each step only grows by 60 µs per extra decode.
            assertTrue(together < single * 3, "6 streams together " + together + " ms, one alone " + single + " ms");
            assertEquals(7 * 40, simulator.metric("vllm:generation_tokens_total"));
        }
    }

    @Test
    void beyondMaxNumSeqsRequestsWaitInTheQueueAndThenComplete() throws Exception {
        SimulatorSettings settings = SimulatorSettings.defaults(List.of(SimulatorHarness.MODEL)).withBatch(1, 8192);
        try (SimulatorHarness simulator = new SimulatorHarness(settings)) {
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            AtomicBoolean waitingSeen = new AtomicBoolean();
            AtomicBoolean overfull = new AtomicBoolean();
            for (int i = 0; i < 3; i++) {
                answers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return simulator.post("/v1/chat/completions", chat("queue", 25, true, false));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            assertTrue(SimulatorHarness.await(5000, () -> {
                overfull.compareAndSet(false, simulator.read(RUNNING) > 1);
                waitingSeen.compareAndSet(false, simulator.read(WAITING) >= 1);
                return answers.stream().allMatch(CompletableFuture::isDone);
            }));
            for (CompletableFuture<HttpResponse<String>> answer : answers) {
                assertEquals(200, answer.get().statusCode(), answer.get().body());
            }
            assertTrue(waitingSeen.get(), "the metrics showed requests waiting");
            assertTrue(!overfull.get(), "never more than max-num-seqs running");
            assertEquals(0, simulator.metric(WAITING));
            assertEquals(3, simulator.metric("vllm:request_success_total"));
        }
    }

    @Test
    void aKvCacheTooSmallForTwoLongPromptsRunsThemOneAfterTheOther() throws Exception {
        SimulatorSettings settings = SimulatorSettings.defaults(List.of(SimulatorHarness.MODEL))
                .withMaxModelLen(2048).withKvBlocks(200);
        try (SimulatorHarness simulator = new SimulatorHarness(settings)) {
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (String tag : new String[]{"first", "second"}) {
                answers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return simulator.post("/v1/chat/completions", chat(text(tag, 1800), 30, true, false));
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            assertTrue(SimulatorHarness.await(5000, () -> simulator.read(RUNNING) == 1 && simulator.read(WAITING) == 1),
                    "2 x 113 blocks do not fit in 200: one runs, one waits");
            for (CompletableFuture<HttpResponse<String>> answer : answers) {
                assertEquals(200, answer.get().statusCode(), answer.get().body());
                assertEquals(30, SimulatorHarness.JSON.readTree(answer.get().body()).at("/usage/completion_tokens")
                        .asInt());
            }
            assertEquals(0, simulator.metric("vllm:kv_cache_usage_perc"));
        }
    }

    @Test
    void prefixesUsedLongAgoAreEvictedFirstSoAnOldPromptMissesAgain() throws Exception {
        SimulatorSettings settings = SimulatorSettings.defaults(List.of(SimulatorHarness.MODEL))
                .withMaxModelLen(2048).withKvBlocks(200);
        try (SimulatorHarness simulator = new SimulatorHarness(settings)) {
            for (String tag : new String[]{"A", "B", "C", "D"}) {
                assertEquals(200, simulator.post("/v1/chat/completions", chat(text(tag, 1500), 1, false, false))
                        .statusCode());
            }
            double before = simulator.metric(HITS);
            simulator.post("/v1/chat/completions", chat(text("D", 1500), 1, false, false));
            double recent = simulator.metric(HITS) - before;
            simulator.post("/v1/chat/completions", chat(text("A", 1500), 1, false, false));
            double old = simulator.metric(HITS) - before - recent;
            assertTrue(recent >= 1400, "the latest prompt is still cached: " + recent + " hit tokens");
            assertTrue(old < 150, "the oldest was evicted by the three after it: " + old + " hit tokens");
        }
    }

    @Test
    void aStalledRequestIsHeldBackOutsideTheEngineForTheStallDuration() throws Exception {
        SimulatorSettings settings = SimulatorSettings.defaults(List.of(SimulatorHarness.MODEL))
                .withStalls(1.0, Duration.ofMillis(800), 7);
        try (SimulatorHarness simulator = new SimulatorHarness(settings)) {
            CompletableFuture<SimulatorHarness.Streamed> stream = CompletableFuture.supplyAsync(() -> {
                try {
                    return simulator.stream(chat("stall", 3, true, true));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(SimulatorHarness.await(2000,
                    () -> simulator.read("simulator_requests_received_total") == 1));
            assertEquals(0, simulator.metric(RUNNING) + simulator.metric(WAITING), "not in the engine while stalled");
            SimulatorHarness.Streamed stalled = stream.get();
            assertTrue(stalled.firstDataMillis() >= 780, "first token after the stall: " + stalled.firstDataMillis());
            assertTrue(stalled.firstDataMillis() < 800 + 3000, "and soon after it: " + stalled.firstDataMillis());
            assertEquals(3 + 4, stalled.data().size());
        }
    }
}

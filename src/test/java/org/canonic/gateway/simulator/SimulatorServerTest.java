package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static org.canonic.gateway.simulator.SimulatorHarness.JSON;
import static org.canonic.gateway.simulator.SimulatorHarness.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulator's wire contract: vLLM's answers, streams, errors, metrics, and aborts when a client leaves. */
class SimulatorServerTest {

    private static final String RUNNING = "vllm:num_requests_running";
    private static final String USAGE = "vllm:kv_cache_usage_perc";

    @Test
    void aClientThatLeavesMidStreamIsAbortedAndItsBlocksAreFreed() throws Exception {
        try (SimulatorHarness simulator = SimulatorHarness.start()) {
            try (RawHttp client = RawHttp.post(simulator.port(), "/v1/chat/completions",
                    chat("a long one", 2000, true, true))) {
                client.readUntil("\"content\":\"Hell");
                assertEquals(1, simulator.metric(RUNNING));
                assertTrue(simulator.metric(USAGE) > 0);
            }
            assertTrue(SimulatorHarness.await(5000, () -> simulator.read(RUNNING) == 0 && simulator.read(USAGE) == 0),
                    simulator.metricsText());
            assertTrue(simulator.metric("vllm:generation_tokens_total") < 1000, "it stopped generating");
            assertEquals(0, simulator.metric("vllm:request_success_total"));
        }
    }

    @Test
    void aNonStreamClientThatLeavesIsAbortedToo() throws Exception {
        try (SimulatorHarness simulator = SimulatorHarness.start()) {
            try (RawHttp ignored = RawHttp.post(simulator.port(), "/v1/chat/completions",
                    chat("a long one", 2000, true, false))) {
                assertTrue(SimulatorHarness.await(5000, () -> simulator.read(RUNNING) == 1));
            }
            assertTrue(SimulatorHarness.await(5000, () -> simulator.read(RUNNING) == 0 && simulator.read(USAGE) == 0),
                    simulator.metricsText());
        }
    }

    @Test
    void aClientThatLeavesDuringAStallNeverReachesTheEngine() throws Exception {
        SimulatorSettings settings = SimulatorSettings.defaults(List.of(SimulatorHarness.MODEL))
                .withStalls(1.0, Duration.ofMillis(300), 1);
        try (SimulatorHarness simulator = new SimulatorHarness(settings)) {
            try (RawHttp client = RawHttp.post(simulator.port(), "/v1/chat/completions", chat("x", 5, true, true))) {
                client.readUntil("\r\n\r\n");
            }
            Thread.sleep(600);
            assertEquals(1, simulator.metric("simulator_requests_received_total"));
            assertEquals(0, simulator.metric("vllm:prefix_cache_queries_total"), "it was never admitted");
        }
    }

    @Test
    void ignoreEosStreamsExactlyMaxTokensWithTheRightFinishReasonAndUsage() throws Exception {
        try (SimulatorHarness simulator = SimulatorHarness.start()) {
            SimulatorHarness.Streamed stream = simulator.stream(chat("count", 37, true, true));
            List<String> data = stream.data();
            assertEquals("[DONE]", data.get(data.size() - 1));
            JsonNode role = JSON.readTree(data.get(0));
            assertEquals("assistant", role.at("/choices/0/delta/role").asText(), "the role chunk comes first");
            int contentChunks = 0;
            for (String payload : data.subList(1, data.size() - 3)) {
                JsonNode chunk = JSON.readTree(payload);
                assertEquals(4, chunk.at("/choices/0/delta/content").asText().length(), payload);
                assertTrue(chunk.at("/choices/0/finish_reason").isNull(), payload);
                contentChunks++;
            }
            assertEquals(37, contentChunks);
            assertEquals("length", JSON.readTree(data.get(data.size() - 3)).at("/choices/0/finish_reason").asText());
            JsonNode usage = JSON.readTree(data.get(data.size() - 2));
            assertEquals(0, usage.path("choices").size());
            assertEquals(37, usage.at("/usage/completion_tokens").asInt());
            assertEquals(usage.at("/usage/prompt_tokens").asInt() + 37, usage.at("/usage/total_tokens").asInt());

            HttpResponse<String> whole = simulator.post("/v1/chat/completions", chat("count", 12, true, false));
            JsonNode body = JSON.readTree(whole.body());
            assertEquals("length", body.at("/choices/0/finish_reason").asText());
            assertEquals(12, body.at("/usage/completion_tokens").asInt());
            assertEquals(48, body.at("/choices/0/message/content").asText().length());

            JsonNode free = JSON.readTree(simulator.post("/v1/chat/completions", chat("hi", 1000, false, false)).body());
            assertEquals("stop", free.at("/choices/0/finish_reason").asText());
            assertTrue(free.at("/choices/0/message/content").asText().startsWith("Hello from the magic-gateway"));
        }
    }

    @Test
    void vllmsOtherEndpointsAndErrorsKeepTheirShape() throws Exception {
        try (SimulatorHarness simulator = SimulatorHarness.start()) {
            assertEquals(200, simulator.get("/health").statusCode());
            JsonNode models = JSON.readTree(simulator.get("/v1/models").body());
            assertEquals(SimulatorHarness.MODEL, models.at("/data/0/id").asText());
            assertEquals(16384, models.at("/data/0/max_model_len").asInt());
            JsonNode count = JSON.readTree(simulator.post("/tokenize",
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}").body());
            assertEquals(13, count.path("count").asInt());

            HttpResponse<String> unknown = simulator.post("/v1/chat/completions",
                    "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
            assertEquals(404, unknown.statusCode());
            assertEquals("The model `nope` does not exist.", JSON.readTree(unknown.body()).at("/error/message").asText());
            HttpResponse<String> overflow = simulator.post("/v1/chat/completions", chat("x", 20000, false, true));
            assertEquals(400, overflow.statusCode());
            assertTrue(overflow.body().contains("maximum context length is 16384 tokens"), overflow.body());

            HttpResponse<String> completion = simulator.post("/v1/completions",
                    "{\"model\":\"" + SimulatorHarness.MODEL + "\",\"prompt\":\"Once\",\"max_tokens\":3}");
            JsonNode text = JSON.readTree(completion.body());
            assertEquals("text_completion", text.path("object").asText());
            assertEquals(1, text.at("/usage/prompt_tokens").asInt());
            assertEquals(3, text.at("/usage/completion_tokens").asInt());
        }
    }

    @Test
    void metricsAreValidPrometheusTextWithVllmsNamesAndLabels() throws Exception {
        try (SimulatorHarness simulator = SimulatorHarness.start()) {
            simulator.post("/v1/chat/completions", chat("measure me", 5, true, false));
            HttpResponse<String> page = simulator.get("/metrics");
            assertEquals(200, page.statusCode());
            assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
            Pattern help = Pattern.compile("# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \\S.*");
            Pattern type = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)");
            Pattern sample = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\",?)*})? "
                    + "-?[0-9]+(\\.[0-9]+)?");
            Set<String> typed = new HashSet<>();
            Set<String> sampled = new HashSet<>();
            for (String line : page.body().split("\n")) {
                var typeLine = type.matcher(line);
                if (typeLine.matches()) {
                    typed.add(typeLine.group(1));
                    continue;
                }
                var sampleLine = sample.matcher(line);
                assertTrue(help.matcher(line).matches() || sampleLine.matches(), "not Prometheus text: " + line);
                if (sampleLine.matches()) {
                    assertTrue(typed.contains(sampleLine.group(1)), "a TYPE line comes first: " + line);
                    sampled.add(sampleLine.group(1));
                }
            }
            for (String name : List.of("vllm:num_requests_running", "vllm:num_requests_waiting", USAGE,
                    "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total", "vllm:prompt_tokens_total",
                    "vllm:generation_tokens_total", "vllm:request_success_total", "simulator_requests_received_total")) {
                assertTrue(sampled.contains(name), name + " in\n" + page.body());
            }
            assertTrue(page.body().contains("vllm:generation_tokens_total{engine=\"0\",model_name=\""
                    + SimulatorHarness.MODEL + "\"} 5.0\n"), page.body());
            assertTrue(page.body().contains("vllm:request_success_total{engine=\"0\",model_name=\""
                    + SimulatorHarness.MODEL + "\"} 1.0\n"), page.body());
        }
    }
}

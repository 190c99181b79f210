package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.canonic.gateway.simulator.SimulatorHarness.JSON;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark launcher's contract: its options, its printed lines, and replicas that are separate vLLMs. */
class SimulatorMainTest {

    private static final Pattern REPLICA = Pattern.compile("replica (\\d+) (http://127\\.0\\.0\\.1:(\\d+)/v1)");

    @Test
    void twoReplicasOnFreePortsArePrintedThenReadyAndEachAnswersOnItsOwn() throws Exception {
        List<SimulatorSettings> settings = SimulatorMain.parse("--replicas", "2", "--model", "m", "--speed", "1,2",
                "--max-model-len", "32768", "--kv-blocks", "4096");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (SimulatorMain.Replicas replicas = SimulatorMain.Replicas.start(settings,
                new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            String[] lines = printed.toString(StandardCharsets.UTF_8).split("\n");
            assertEquals(3, lines.length, printed.toString(StandardCharsets.UTF_8));
            assertEquals("READY", lines[2]);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String[] urls = new String[2];
            for (int i = 0; i < 2; i++) {
                Matcher line = REPLICA.matcher(lines[i]);
                assertTrue(line.matches(), lines[i]);
                assertEquals(i, Integer.parseInt(line.group(1)));
                urls[i] = line.group(2);
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(urls[i]
                                + "/chat/completions")).timeout(Duration.ofSeconds(10))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"max_tokens\":3,"
                                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, answer.statusCode(), answer.body());
                JsonNode models = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(urls[i] + "/models"))
                        .build(), HttpResponse.BodyHandlers.ofString()).body());
                assertEquals(32768, models.at("/data/0/max_model_len").asInt());
            }
            assertNotEquals(urls[0], urls[1]);
            String metrics = http.send(HttpRequest.newBuilder(URI.create(urls[1].replace("/v1", "/metrics"))).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("simulator_requests_received_total 1.0\n"), "one request each: " + metrics);
            assertEquals(2, replicas.servers().size());
        }
    }

    @Test
    void optionsApplyPerReplicaOrToAll() {
        List<SimulatorSettings> replicas = SimulatorMain.parse("--replicas", "3", "--speed", "1,1.5,3",
                "--stall-rate", "0.25", "--stall-ms", "750", "--seed", "10", "--max-num-seqs", "16",
                "--max-num-batched-tokens", "2048", "--ports", "0,0,0", "--host", "127.0.0.1");
        assertEquals(3, replicas.size());
        assertEquals(1.5, replicas.get(1).cost().speedFactor());
        assertEquals(3.0, replicas.get(2).cost().speedFactor());
        assertEquals(Duration.ofMillis(750), replicas.get(2).stallDuration());
        assertEquals(0.25, replicas.get(0).stallRate());
        assertEquals(12, replicas.get(2).seed(), "replica i draws from seed + i");
        assertEquals(16, replicas.get(0).maxNumSeqs());
        assertEquals(2048, replicas.get(0).maxNumBatchedTokens());
        assertEquals(List.of(SimulatorSettings.DEFAULT_MODEL), replicas.get(0).models());
        assertEquals(1.0, SimulatorMain.parse().get(0).cost().speedFactor());
    }

    @Test
    void aBadOptionIsRefusedWithAReason() {
        for (String[] bad : List.of(new String[]{"--replicas", "two"}, new String[]{"--replica", "2"},
                new String[]{"--replicas", "2", "--ports", "1,2,3"}, new String[]{"--speed", "0"},
                new String[]{"--stall-rate", "2"}, new String[]{"--kv-blocks", "10"}, new String[]{"--seed"},
                new String[]{"replicas", "2"})) {
            assertThrows(IllegalArgumentException.class, () -> SimulatorMain.parse(bad), String.join(" ", bad));
        }
    }
}

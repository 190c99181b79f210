package org.canonic.gateway.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exactly one ledger line per request, whatever its fate, with what an operator needs and nothing secret. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class LedgerTest extends GatewayTest {

    private final String run = UUID.randomUUID().toString().substring(0, 8);

    private String id(String name) {
        return run + "-" + name;
    }

    @Test
    void everyRequestLeavesExactlyOneLineWhateverItsFate() throws Exception {
        HttpResponse<String> stream = gateway.post("/v1/chat/completions", chat("main-model", true),
                "x-request-id", id("stream"));
        assertFalse(stream.body().contains("\"usage\""), "the client did not ask for usage");
        gateway.post("/v1/chat/completions", chat("main-model", false), "x-request-id", id("plain"));
        gateway.post("/v1/chat/completions", "{\"model\":\"main-model\"}", "x-request-id", id("refused"));
        gateway.post("/v1/chat/completions", chat("nope", false), "x-request-id", id("unknown"));
        alpha().then(Behavior.json(400, "{\"error\":{\"message\":\"bad\",\"type\":\"BadRequestError\",\"param\":null,"
                + "\"code\":400}}"));
        gateway.post("/v1/chat/completions", chat("main-model", false), "x-request-id", id("rejected"));
        alpha().always(Behavior.status(500));
        omega().always(Behavior.status(500));
        gateway.post("/v1/chat/completions", chat("solo-model", false), "x-request-id", id("failed"));
        alpha().always(Behavior.stream(100).tokenDelay(30).dropAfter(4));
        gateway.post("/v1/chat/completions", chat("solo-model", true), "x-request-id", id("truncated"));
        alpha().always(Behavior.stream(100).tokenDelay(50));
        try (RawHttp client = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", true),
                "x-request-id: " + id("cancelled") + "\r\n")) {
            client.readUntil("tok2");
        }
        alpha().lastCompletion().closedEarly.get(2, TimeUnit.SECONDS);

        Map<String, List<JsonNode>> lines = awaitLines(8, 5000);
        lines.forEach((id, records) -> assertEquals(1, records.size(), "exactly one line for " + id));

        JsonNode completed = only(lines, id("stream"));
        assertEquals("completed", completed.get("outcome").asText());
        assertEquals(200, completed.get("status").asInt());
        assertEquals("alpha", completed.get("backend").asText());
        assertEquals("main", completed.get("route").asText());
        assertEquals("main-model", completed.get("model").asText());
        assertEquals("anonymous", completed.get("key_id").asText());
        assertEquals(3, completed.at("/usage/completion_tokens").asInt(), "usage recorded though not relayed");
        assertFalse(completed.at("/usage/estimated").asBoolean());
        assertEquals("stop", completed.get("finish_reason").asText());
        assertTrue(completed.get("ttft_ms").asDouble() >= 0);
        assertEquals(1, completed.get("attempts").size());
        assertFalse(completed.has("prompt"), "no prompt text unless the operator opts in");

        assertEquals("completed", only(lines, id("plain")).get("outcome").asText());
        assertEquals("refused", only(lines, id("refused")).get("outcome").asText());
        assertEquals(400, only(lines, id("refused")).get("status").asInt());
        assertEquals("model_not_found", only(lines, id("unknown")).get("error_code").asText());
        assertEquals("nope", only(lines, id("unknown")).get("model").asText(), "the name the client sent");
        assertFalse(only(lines, id("unknown")).get("stream").asBoolean());
        assertEquals("rejected", only(lines, id("rejected")).get("outcome").asText());
        JsonNode failed = only(lines, id("failed"));
        assertEquals("failed", failed.get("outcome").asText());
        assertEquals(3, failed.get("attempts").size());
        assertEquals("backend", failed.at("/attempts/0/fault").asText());
        JsonNode truncated = only(lines, id("truncated"));
        assertEquals("truncated", truncated.get("outcome").asText());
        assertTrue(truncated.at("/usage/estimated").asBoolean());

        JsonNode cancelled = only(lines, id("cancelled"));
        assertEquals("cancelled", cancelled.get("outcome").asText());
        assertTrue(cancelled.at("/usage/estimated").asBoolean());
        assertTrue(cancelled.at("/usage/completion_tokens").asInt() >= 2, cancelled.toString());
    }

    @Test
    void aModelNotFoundLineRecordsTheNameSentBoundedAndPrintableAndWhetherItStreamed() throws Exception {
        String name = "no\u0001such\nmodel-" + "x".repeat(200);
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", "{\"model\":" + MAPPER.writeValueAsString(name)
                + ",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                "x-request-id", id("unknown-stream"));
        assertEquals(404, answer.statusCode(), answer.body());

        JsonNode line = only(awaitLines(1, 5000), id("unknown-stream"));
        assertEquals("model_not_found", line.get("error_code").asText());
        assertTrue(line.get("stream").asBoolean(), line.toString());
        String recorded = line.get("model").asText();
        assertTrue(recorded.startsWith("no?such?model-xxx"), recorded);
        assertTrue(recorded.length() <= 103, "bounded to 100 characters: " + recorded.length());
        assertTrue(recorded.chars().noneMatch(Character::isISOControl), recorded);
        assertTrue(line.get("route").isNull());
    }

    private static JsonNode only(Map<String, List<JsonNode>> lines, String id) {
        List<JsonNode> records = lines.get(id);
        assertNotNull(records, "no ledger line for " + id + " in " + lines.keySet());
        return records.get(0);
    }

    /** Ledger lines of this run (ids starting with the run prefix), once at least n are in. */
    private Map<String, List<JsonNode>> awaitLines(int n, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        Map<String, List<JsonNode>> lines = new HashMap<>();
        while (System.nanoTime() < deadline) {
            lines.clear();
            for (String line : Files.readAllLines(FakeBackends.ledger())) {
                JsonNode record = json(line);
                String id = record.get("request_id").asText();
                if (id.startsWith(run)) {
                    lines.computeIfAbsent(id, k -> new java.util.ArrayList<>()).add(record);
                }
            }
            if (lines.size() >= n) {
                return lines;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("expected " + n + " ledger lines, found " + lines.keySet());
    }
}

package org.canonic.gateway.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.backend.AttemptOutcome;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ledger line's hand-made parts write exactly what the general-purpose ones did. */
class LedgerJsonTest {

    @Test
    void timestampsAreWrittenAsInstantWritesThem() {
        long[] edges = {0, 1, 999, 1000, -1, -1000, -1001, 1_764_633_600_000L, 253_402_300_799_999L,
                253_402_300_800_000L, -62_167_219_200_000L, -62_167_219_200_001L};
        for (long ms : edges) {
            assertEquals(Instant.ofEpochMilli(ms).toString(), LedgerJson.utc(ms), "epoch ms " + ms);
        }
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            long ms = random.nextLong(-62_167_219_200_000L, 253_402_300_800_000L);
            if (i % 3 == 0) {
                ms -= Math.floorMod(ms, 1000L); // whole seconds: no fraction at all
            }
            assertEquals(Instant.ofEpochMilli(ms).toString(), LedgerJson.utc(ms), "epoch ms " + ms);
        }
    }

    @Test
    void aLineHasEveryMemberWithItsValue() throws Exception {
        RequestRecord record = new RequestRecord("req-1", System.nanoTime());
        record.request("key-a", "chat", "qwen", "chat", true);
        record.attempt(new AttemptRecord("vastai", 1, AttemptOutcome.FIRST_TOKEN_TIMEOUT, 0, 30_000, "no token"));
        record.attempt(new AttemptRecord("runpod", 1, AttemptOutcome.COMPLETED, 200, 120, null));
        record.backend("runpod", 512);
        record.usage(10, 20, false);
        record.finishReason("stop");
        record.close(Outcome.COMPLETED, 200, null);
        JsonNode line = new ObjectMapper().readTree(record.toJson());
        assertEquals("req-1", line.get("request_id").asText());
        assertEquals("key-a", line.get("key_id").asText());
        assertEquals("chat", line.get("route").asText());
        assertEquals("qwen", line.get("model").asText());
        assertTrue(line.get("stream").asBoolean());
        assertEquals("runpod", line.get("backend").asText());
        assertEquals(512, line.get("max_tokens").asInt());
        assertEquals(10, line.get("usage").get("prompt_tokens").asInt());
        assertEquals(20, line.get("usage").get("completion_tokens").asInt());
        assertEquals(30, line.get("usage").get("total_tokens").asInt());
        assertEquals(false, line.get("usage").get("estimated").asBoolean());
        assertEquals("stop", line.get("finish_reason").asText());
        assertTrue(line.get("ttft_ms").isNull(), "no token was relayed");
        assertEquals("completed", line.get("outcome").asText());
        assertEquals(200, line.get("status").asInt());
        assertTrue(line.get("error_code").isNull());
        JsonNode first = line.get("attempts").get(0);
        assertEquals("vastai", first.get("backend").asText());
        assertEquals(1, first.get("try").asInt());
        assertEquals("first_token_timeout", first.get("outcome").asText());
        assertEquals("backend", first.get("fault").asText());
        assertEquals(0, first.get("status").asInt());
        assertEquals(30_000, first.get("elapsed_ms").asLong());
        assertEquals(2, line.get("attempts").size());
        Instant.parse(line.get("started_at").asText());
        Instant.parse(line.get("ended_at").asText());
    }
    @Test
    void theRoutingObjectNamesThePolicyTheReasonThePrefixAndTheHedge() throws Exception {
        RequestRecord record = new RequestRecord("req-2", System.nanoTime());
        record.request("key-a", "chat", "qwen", "chat", true);
        record.attempt(new AttemptRecord("r1", 1, AttemptOutcome.HEDGE_LOST, 0, 900, "the other came first"));
        record.attempt(new AttemptRecord("r2", 1, AttemptOutcome.COMPLETED, 200, 1500, null, true));
        record.routing("cache-aware", "prefix", 120, 130);
        record.hedge("r2", 640);
        record.hedgeOutcome("won");
        record.close(Outcome.COMPLETED, 200, null);
        JsonNode line = new ObjectMapper().readTree(record.toJson());
        JsonNode routing = line.get("routing");
        assertEquals("cache-aware", routing.get("policy").asText());
        assertEquals("prefix", routing.get("reason").asText());
        assertEquals(120, routing.get("matched_blocks").asInt());
        assertEquals(130, routing.get("prompt_blocks").asInt());
        assertEquals("r2", routing.at("/hedge/backend").asText());
        assertEquals(640, routing.at("/hedge/after_ms").asLong());
        assertEquals("won", routing.at("/hedge/outcome").asText());
        assertEquals("hedge_lost", line.at("/attempts/0/outcome").asText());
        assertEquals("none", line.at("/attempts/0/fault").asText(), "losing a race is nobody's fault");
        assertTrue(line.at("/attempts/0/hedge").isMissingNode());
        assertTrue(line.at("/attempts/1/hedge").asBoolean());

        RequestRecord ordered = new RequestRecord("req-3", System.nanoTime());
        ordered.routing("ordered", "ordered", 0, 0);
        ordered.close(Outcome.COMPLETED, 200, null);
        JsonNode plain = new ObjectMapper().readTree(ordered.toJson()).get("routing");
        assertEquals("ordered", plain.get("reason").asText());
        assertTrue(plain.get("matched_blocks") == null && plain.get("hedge") == null, plain.toString());
    }
}

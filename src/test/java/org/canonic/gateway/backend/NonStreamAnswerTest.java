package org.canonic.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class NonStreamAnswerTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String ANSWER = "{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"hi \\\"there\\\"\",\"tool_calls\":[{\"id\":\"t\"}]},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}} \n";

    @Test
    void theSummaryKeepsUsageAndFinishReasonsOnly() {
        ObjectNode summary = NonStreamAnswer.summarize(Buffer.buffer(ANSWER));
        assertEquals(2, summary.at("/usage/completion_tokens").asInt());
        assertEquals("stop", summary.at("/choices/0/finish_reason").asText());
        assertFalse(summary.at("/choices/0").has("message"), "content is never decoded");
    }

    @Test
    void eachChoiceKeepsItsIndexAndFinishReasonAsAParsedTreeWouldHoldThem() throws Exception {
        String answer = "{\"choices\":[{\"index\":0,\"finish_reason\":null,\"text\":\"a\"},"
                + "{\"finish_reason\":\"length\",\"index\":3000000000},{\"index\":2,\"finish_reason\":true}]}";
        ObjectNode summary = NonStreamAnswer.summarize(Buffer.buffer(answer));
        assertEquals(MAPPER.readTree("[{\"index\":0,\"finish_reason\":null},{\"finish_reason\":\"length\","
                + "\"index\":3000000000},{\"index\":2,\"finish_reason\":true}]"), summary.get("choices"));
    }

    @Test
    void usageAndRecordedChoicesAreTheTreesAFullParseWouldBuild() throws Exception {
        String answer = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"a\\nb\",\"tool_calls\":[]},"
                + "\"logprobs\":{\"content\":[{\"token\":\"a\",\"logprob\":-0.000123,\"top\":[1,2.5,null,true]}]}}],"
                + "\"usage\":{\"prompt_tokens\":3000000000,\"completion_tokens\":2,\"total_tokens\":3000000002,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":1},\"cost\":1.5e-3,\"tags\":[\"x\",{}]}}";
        JsonNode full = MAPPER.readTree(answer);
        assertEquals(full.get("usage"), NonStreamAnswer.summarize(Buffer.buffer(answer)).get("usage"));
        assertEquals(full.get("choices"), NonStreamAnswer.choices(Buffer.buffer(answer)));
        assertNull(NonStreamAnswer.choices(Buffer.buffer("")));
    }

    @Test
    void theSummaryIsTheSameWhereverTheBytesLie() {
        ObjectNode expected = NonStreamAnswer.summarize(Buffer.buffer(ANSWER));
        byte[] bytes = ANSWER.getBytes(StandardCharsets.UTF_8);
        // A slice of a larger heap array (the array path must honour its offset) ...
        byte[] padded = new byte[bytes.length + 20];
        Arrays.fill(padded, (byte) '{');
        System.arraycopy(bytes, 0, padded, 7, bytes.length);
        assertEquals(expected, NonStreamAnswer.summarize(Buffer.buffer(Unpooled.wrappedBuffer(padded)
                .slice(7, bytes.length))));
        // ... chunks as they arrived, split inside a string (no backing array: read as a stream) ...
        int cut = ANSWER.indexOf("there");
        assertEquals(expected, NonStreamAnswer.summarize(Buffer.buffer(Unpooled.wrappedBuffer(
                Unpooled.wrappedBuffer(bytes, 0, cut), Unpooled.wrappedBuffer(bytes, cut, bytes.length - cut)))));
        // ... and off the heap.
        assertEquals(expected, NonStreamAnswer.summarize(Buffer.buffer(Unpooled.directBuffer().writeBytes(bytes))));
    }

    @Test
    void whatIsNotOneJsonObjectHasNoSummary() {
        for (String body : new String[] {"<html>502</html>", "[1]", "{\"a\":1} {\"b\":2}", "{\"a\":", ""}) {
            assertNull(NonStreamAnswer.summarize(Buffer.buffer(body)), body);
        }
    }

    @Test
    void theGatewayObjectIsAddedAroundTheBytesThatArrived() throws Exception {
        JsonNode withInfo = MAPPER.readTree(NonStreamAnswer.withGatewayInfo(Buffer.buffer(ANSWER), "al\"pha", 12, 2)
                .toString());
        assertEquals("hi \"there\"", withInfo.at("/choices/0/message/content").asText());
        assertEquals("al\"pha", withInfo.at("/gateway/provider_used").asText());
        assertEquals(12, withInfo.at("/gateway/elapsed_ms").asInt());
        assertEquals(2, withInfo.at("/gateway/attempts").asInt());
        assertEquals(1, MAPPER.readTree(NonStreamAnswer.withGatewayInfo(Buffer.buffer("{ }"), "b", 1, 1).toString())
                .size());
    }

    @Test
    void aUsageBeyondItsBoundsIsTreatedAsMissingAndTheAnswerStillPasses() {
        StringBuilder members = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            members.append(",\"m").append(i).append("\":1");
        }
        ObjectNode wide = NonStreamAnswer.summarize(Buffer.buffer("{\"usage\":{\"prompt_tokens\":3" + members
                + "},\"choices\":[{\"index\":0,\"finish_reason\":\"stop\"}]}"));
        assertFalse(wide.has("usage"), "too many members: usage missing");
        assertEquals("stop", wide.at("/choices/0/finish_reason").asText(), "the rest is still read");

        ObjectNode deep = NonStreamAnswer.summarize(Buffer.buffer("{\"usage\":{\"prompt_tokens\":3,\"a\":{\"b\":"
                + "{\"c\":{\"d\":{\"e\":1}}}}},\"choices\":[]}"));
        assertFalse(deep.has("usage"), "too deep: usage missing");

        ObjectNode details = NonStreamAnswer.summarize(Buffer.buffer("{\"usage\":{\"prompt_tokens\":3,"
                + "\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":1}}}"));
        assertEquals(1, details.at("/usage/prompt_tokens_details/cached_tokens").asInt(), "vLLM's own shape passes");

        assertNull(NonStreamAnswer.summarizeUsageChunk(Buffer.buffer("{\"usage\":{\"prompt_tokens\":3,\"x\":\""
                + "a".repeat(NonStreamAnswer.MAX_USAGE_CHUNK_BYTES) + "\"}}")), "an oversized usage chunk is not read");
    }
}

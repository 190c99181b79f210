package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LedgerLines;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a backend (or anything answering on its address) sends is never parsed without bound on an event loop: a
 * hostile answer costs its own request, never the gateway's liveness.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class HostileAnswerTest extends GatewayTest {

    /**
     * Issue 25, defect 6: a non-stream answer whose usage object had 1.3 million members (15 MB) blocked the event
     * loop 5.7 s per request; with 40 of them liveness took 6.7 s. The answer is relayed, its usage is treated as
     * missing and estimated, and the gateway answers its health checks meanwhile.
     */
    @Test
    void aHugeUsageObjectIsEstimatedWhileTheGatewayStaysResponsive() throws Exception {
        alpha().always(Behavior.json(200, hugeUsageAnswer(1_300_000)));
        String run = "huge-usage-" + System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            answers.add(gateway.postAsync("/v1/chat/completions", chat("main-model", false), "x-request-id",
                    run + "-" + i));
        }
        long worstMs = 0;
        int probes = 0;
        while (!CompletableFuture.allOf(answers.toArray(new CompletableFuture[0])).isDone()) {
            long start = System.nanoTime();
            assertEquals(200, gateway.get("/health").statusCode());
            worstMs = Math.max(worstMs, (System.nanoTime() - start) / 1_000_000);
            probes++;
            Thread.sleep(20);
        }
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
            HttpResponse<String> response = answer.get();
            assertEquals(200, response.statusCode(), response.body().substring(0, Math.min(300,
                    response.body().length())));
            assertTrue(response.body().length() > 14_000_000, "relayed whole: " + response.body().substring(0, Math.min(400, response.body().length())));
        }
        assertTrue(worstMs < 1_000, "the public health answered within " + worstMs + " ms at worst (" + probes
                + " probes while the answers were read)");
        Map<String, List<JsonNode>> lines = LedgerLines.await(FakeBackends.ledger().getParent(), run, 4, 10_000);
        for (List<JsonNode> line : lines.values()) {
            JsonNode record = line.get(0);
            assertEquals("completed", record.path("outcome").asText(), record.toString());
            assertTrue(record.path("usage").path("estimated").asBoolean(), record.toString());
        }
    }

    /** An answer whose usage holds the counts and then {@code members} more members: about 12 bytes each. */
    static String hugeUsageAnswer(int members) {
        StringBuilder answer = new StringBuilder(members * 13 + 256).append("{\"id\":\"chatcmpl-huge\",\"object\":"
                + "\"chat.completion\",\"model\":\"" + FakeBackends.ALPHA_MODEL + "\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13");
        for (int i = 0; i < members; i++) {
            answer.append(",\"m").append(i).append("\":1");
        }
        return answer.append("}}").toString();
    }
}

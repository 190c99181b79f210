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

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A non-stream try's clock covers the whole generation (vLLM answers only when it is done): when it runs out before
 * the answer asked for could have been generated, the try moves on as before, but no breaker holds it against the
 * backend (issue 25, defect 2).
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class NonStreamTriesTest extends GatewayTest {

    @Test
    void aTryCutBeforeALongAnswerCouldBeGeneratedIsTheRequestsTimeLimitNotABackendFault() throws Exception {
        // Alpha generates 1000 tokens in 3 s, past its 1.5 s clock; omega, the fallback, answers.
        alpha().always(Behavior.completion("long answer").responseDelay(3_000));
        String id = "long-non-stream-" + System.nanoTime();
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", "{\"model\":\"solo-model\","
                + "\"max_tokens\":1000,\"messages\":[{\"role\":\"user\",\"content\":\"a long story\"}]}",
                "x-request-id", id);
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("omega", answer.headers().firstValue("x-gateway-provider").orElse(null));

        JsonNode record = LedgerLines.await(FakeBackends.ledger().getParent(), id, 1, 5_000).get(id).get(0);
        JsonNode first = record.path("attempts").get(0);
        assertEquals("alpha", first.path("backend").asText(), record.toString());
        assertEquals("request_time_limit", first.path("outcome").asText(), record.toString());
        assertEquals("request", first.path("fault").asText(), record.toString());
        assertEquals(2, record.path("attempts").size() - 1, "still retried, then moved on: " + record);
    }
}

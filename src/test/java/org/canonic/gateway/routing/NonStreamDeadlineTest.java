package org.canonic.gateway.routing;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A non-stream request is bounded as a whole, across all its tries, so that it ends before the tunnel's own limit
 * (about 100 s) would turn it into a 524; streams are not.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
@TestProfile(NonStreamDeadlineProfile.class)
class NonStreamDeadlineTest extends GatewayTest {

    @Test
    void aSlowNonStreamRequestEndsAt504NamingTheClock() {
        // Each backend alone answers within its own clocks' reach; together the tries outlast the bound.
        alpha().always(Behavior.hang());
        omega().always(Behavior.hang());
        long start = System.nanoTime();
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat("solo-model", false));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        assertEquals(504, answer.statusCode(), answer.body());
        var error = json(answer.body()).get("error");
        assertEquals("non_stream_timeout", error.get("code").asText(), answer.body());
        assertEquals("server_error", error.get("type").asText(), answer.body());
        assertTrue(error.has("param") && error.get("param").isNull(), answer.body());
        assertTrue(error.get("message").asText().contains("non-stream-total"), answer.body());
        assertTrue(error.get("message").asText().contains("stream"), answer.body());
        assertTrue(elapsedMs >= NonStreamDeadlineProfile.NON_STREAM_TOTAL_MS - 50 && elapsedMs < 2_900,
                "ended by the 1.2 s bound, before alpha's second try would end: " + elapsedMs + " ms");
    }

    @Test
    void aStreamIsNotBoundByIt() {
        alpha().then(Behavior.stream(8).tokenDelay(250));
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat("solo-model", true));
        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("tok7") && !answer.body().contains("non_stream_timeout"), answer.body());
    }
}

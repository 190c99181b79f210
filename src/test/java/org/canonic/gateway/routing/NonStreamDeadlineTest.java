package org.canonic.gateway.routing;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A non-stream request is bounded as a whole, across all its tries, so that it ends before the tunnel's own limit
 * (about 100 s) would turn it into a 524; streams are not. The bound is the gateway's clock, set by what the client
 * asked for (a long answer without streaming): it never counts against the backends that were generating it.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
@TestProfile(NonStreamDeadlineProfile.class)
class NonStreamDeadlineTest extends GatewayTest {

    private static final String[] BURST = {"authorization", "Bearer " + NonStreamDeadlineProfile.BURST_KEY};
    private static final String[] OTHER = {"authorization", "Bearer " + NonStreamDeadlineProfile.OTHER_KEY};

    @BeforeEach
    void closedBreakers() {
        resetBreakers();
    }

    @Test
    void aSlowNonStreamRequestEndsAt504NamingTheClock() {
        // Each backend alone answers within its own clocks' reach; together the tries outlast the bound.
        alpha().always(Behavior.hang());
        omega().always(Behavior.hang());
        long start = System.nanoTime();
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat("solo-model", false), BURST);
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
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat("solo-model", true), BURST);
        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("tok7") && !answer.body().contains("non_stream_timeout"), answer.body());
    }

    /**
     * Issue 25, defect 2: one key's long non-stream requests, each cut by the bound while healthy backends generate,
     * opened every breaker, and every other key got 503 no_backend_available.
     */
    @Test
    void longNonStreamRequestsCutByTheBoundNeverOpenABreaker() throws Exception {
        // Healthy backends, generating slowly: each answer takes 3 s, longer than the 1.2 s bound.
        alpha().always(Behavior.completion("long answer").responseDelay(3_000));
        beta().always(Behavior.completion("long answer").responseDelay(3_000));
        String longAnswer = "{\"model\":\"main-model\",\"max_tokens\":1000,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"write a long story\"}]}";
        for (int round = 0; round < 2; round++) {
            List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                burst.add(gateway.postAsync("/v1/chat/completions", longAnswer, BURST));
            }
            for (CompletableFuture<HttpResponse<String>> answer : burst) {
                HttpResponse<String> response = answer.get();
                assertEquals(504, response.statusCode(), response.body());
                assertEquals("non_stream_timeout", json(response.body()).get("error").get("code").asText());
            }
        }
        AdminView admin = new AdminView(gateway);
        assertEquals("CLOSED", admin.backend("alpha").get("breaker").asText(), admin.backend("alpha").toString());
        assertEquals("CLOSED", admin.backend("beta").get("breaker").asText(), admin.backend("beta").toString());

        alpha().always(Behavior.completion("short answer"));
        HttpResponse<String> other = gateway.post("/v1/chat/completions", chat("main-model", false), OTHER);
        assertEquals(200, other.statusCode(), other.body());
        assertEquals("alpha", other.headers().firstValue("x-gateway-provider").orElse(null), other.body());
    }

    /** The same for a stream's total clock: an answer still flowing when it runs out is long, not broken. */
    @Test
    void streamsCutByTheTotalClockWhileFlowingNeverOpenABreaker() throws Exception {
        // 40 tokens 150 ms apart: 6 s, past alpha's 4 s total clock, never silent for its 0.8 s idle clock.
        alpha().always(Behavior.stream(40).tokenDelay(150));
        List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            streams.add(gateway.postAsync("/v1/chat/completions", chat("solo-model", true), BURST));
        }
        for (CompletableFuture<HttpResponse<String>> answer : streams) {
            HttpResponse<String> response = answer.get();
            assertEquals(200, response.statusCode(), response.body());
            assertTrue(response.body().contains("tok1") && response.body().contains("\"answer_time_limit\""),
                    response.body());
        }
        AdminView admin = new AdminView(gateway);
        assertEquals("CLOSED", admin.backend("alpha").get("breaker").asText(), admin.backend("alpha").toString());
    }
}

package org.canonic.gateway.telemetry;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.Metrics;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Counters and histograms move as they should after each kind of request. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class MetricsTest extends GatewayTest {

    private static final String REQUESTS = "gateway_requests_total";
    private static final String TTFT = "gen_ai_server_time_to_first_token_seconds_count";
    private static final String PER_TOKEN = "gen_ai_server_time_per_output_token_seconds_count";
    private static final String DURATION = "gen_ai_client_operation_duration_seconds_count";
    private static final String TOKENS = "gen_ai_client_token_usage_sum";

    private double delta(Metrics before, Metrics after, String name, String... labels) {
        return after.sum(name, labels) - before.sum(name, labels);
    }

    private Metrics afterRequest(Metrics before, String route) throws InterruptedException {
        return Metrics.afterRequest(management, before, route);
    }

    @Test
    void aCompletedStreamCountsItsRequestTimeToFirstTokenGapsAndTokens() throws Exception {
        alpha().then(Behavior.stream(5).tokenDelay(10));
        Metrics before = Metrics.scrape(management);
        gateway.post("/v1/chat/completions", chat("main-model", true));
        Metrics after = afterRequest(before, "main");

        String[] alphaMain = {"route", "main", "backend", "alpha"};
        assertEquals(1, delta(before, after, REQUESTS, "route", "main", "backend", "alpha", "outcome", "completed"));
        assertEquals(1, delta(before, after, TTFT, alphaMain));
        assertEquals(1, delta(before, after, PER_TOKEN, alphaMain));
        assertEquals(1, delta(before, after, DURATION, "route", "main", "outcome", "completed"));
        assertEquals(5, delta(before, after, TOKENS, "route", "main", "gen_ai_token_type", "output"),
                "completion tokens come from the usage chunk the gateway asked for");
        assertEquals(11, delta(before, after, TOKENS, "route", "main", "gen_ai_token_type", "input"));
        assertEquals(1, delta(before, after, "gateway_attempts_total", "backend", "alpha", "outcome", "completed"));
    }

    @Test
    void aNonStreamRequestCountsItsUsageFromTheBody() throws Exception {
        Metrics before = Metrics.scrape(management);
        gateway.post("/v1/chat/completions", chat("main-model", false));
        Metrics after = afterRequest(before, "main");

        assertEquals(1, delta(before, after, REQUESTS, "route", "main", "outcome", "completed",
                "gen_ai_operation_name", "chat"));
        assertEquals(3, delta(before, after, TOKENS, "route", "main", "gen_ai_token_type", "output"));
        assertEquals(0, delta(before, after, TTFT), "no token was streamed");
    }

    @Test
    void aFailedRequestCountsItsAttemptsRetriesAndFallbacks() throws Exception {
        resetBreakers(); // an earlier test may have left alpha's breaker open: then alpha is never tried
        alpha().always(Behavior.status(500));
        omega().always(Behavior.status(502));
        Metrics before = Metrics.scrape(management);
        java.net.http.HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals(502, answer.statusCode());
        Metrics after = afterRequest(before, "solo");
        // what the gateway says it tried (and skipped), for when a count below is off
        String tried = answer.headers().map() + " " + answer.body();

        assertEquals(1, delta(before, after, REQUESTS, "route", "solo", "outcome", "failed"), tried);
        assertEquals(2, delta(before, after, "gateway_attempts_total", "backend", "alpha",
                "outcome", "backend_error_status", "fault", "backend"), tried);
        assertEquals(1, delta(before, after, "gateway_retries_total", "backend", "alpha"), tried);
        assertEquals(1, delta(before, after, "gateway_fallbacks_total", "route", "solo", "to", "omega"), tried);
    }

    @Test
    void aRefusalAndACancellationAreCountedToo() throws Exception {
        Metrics before = Metrics.scrape(management);
        gateway.post("/v1/chat/completions", "{\"model\":\"no-such-model\",\"messages\":[]}");
        alpha().then(Behavior.stream(100).tokenDelay(50));
        try (RawHttp client = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", true))) {
            client.readUntil("tok1");
        }
        alpha().lastCompletion().closedEarly.get(2, TimeUnit.SECONDS);
        Thread.sleep(100);
        Metrics after = Metrics.scrape(management);

        assertEquals(1, delta(before, after, REQUESTS, "route", "none", "backend", "none", "outcome", "refused"),
                "an unknown model name never becomes a label");
        assertEquals(1, delta(before, after, REQUESTS, "route", "main", "outcome", "cancelled"));
        assertFalse(after.text().contains("no-such-model"));
    }

    @Test
    void backendGaugesShowStateBreakerAndInFlight() {
        Metrics now = Metrics.scrape(management);
        assertEquals(1, now.sum("gateway_backend_state", "backend", "alpha", "state", "up"));
        assertEquals(0, now.sum("gateway_backend_state", "backend", "alpha", "state", "down"));
        assertEquals(1, now.sum("gateway_backend_breaker", "backend", "alpha", "state", "closed"));
        assertTrue(now.text().contains("gateway_backend_inflight{backend=\"alpha\"}"));
        assertTrue(now.text().contains("gateway_ledger_queue_depth"));
        assertTrue(now.text().contains("gateway_ledger_dropped_total"));
    }
}

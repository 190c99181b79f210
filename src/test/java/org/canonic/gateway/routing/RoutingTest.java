package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LedgerLines;
import org.canonic.gateway.testing.Received;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.canonic.gateway.testing.FakeBackends.replica;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Placement over real HTTP: three fake replicas of one model behind a route with the default (cache-aware) policy.
 * Each test has a system prompt of its own, so what one test taught the route's prefix index never decides another.
 */
@QuarkusTest
@TestProfile(RoutingProfile.class)
class RoutingTest extends GatewayTest {

    private static final Pattern IN_BAND_PROVIDER = Pattern.compile(": provider=(\\S+)");

    private AdminView admin;
    private String system;

    @BeforeEach
    void idleReplicas() throws InterruptedException {
        resetBreakers();
        admin = new AdminView(gateway);
        system = "System " + UUID.randomUUID() + ". You are a coding agent; the tools are listed below. ".repeat(80);
        for (int n = 1; n <= 3; n++) {
            admin.await("r" + n, backend -> backend.get("inFlight").asInt() == 0
                    && backend.path("load").path("outside").asInt() == 0, 5000);
        }
    }

    @Test
    void aSessionsTurnsStickToTheBackendHoldingTheirPrefixWhileAnotherSessionRunsElsewhere() throws Exception {
        String a = provider(send("spread-model", "ses_a", chat(system, "task A: " + "rename things ".repeat(30))));

        // A's replica holds the shared system prompt, but is busy (as other gateways' traffic on its /metrics says).
        outsideLoad(a, 20);
        String b = provider(send("spread-model", "ses_b", chat(system, "task B: " + "write tests ".repeat(30))));
        assertNotEquals(a, b, "past the load bound the prefix no longer wins");
        outsideLoad(a, 0);

        for (int turn = 2; turn <= 4; turn++) {
            HttpResponse<String> aTurn = send("spread-model", "ses_a",
                    conversation("task A: " + "rename things ".repeat(30), turn));
            HttpResponse<String> bTurn = send("spread-model", "ses_b",
                    conversation("task B: " + "write tests ".repeat(30), turn));
            assertEquals(a, provider(aTurn), "session A, turn " + turn);
            assertEquals(b, provider(bTurn), "session B, turn " + turn + ": A's replica is idle again and holds the"
                    + " system prompt, but B's holds all of B's history");
            JsonNode routing = ledger(bTurn).path("routing");
            assertEquals("cache-aware", routing.path("policy").asText());
            assertEquals("prefix", routing.path("reason").asText(), routing.toString());
            assertTrue(routing.path("matched_blocks").asInt() > routing.path("prompt_blocks").asInt() / 2,
                    routing.toString());
        }
    }

    @Test
    void aPreferredBackendLoadedPastTheBoundIsSkipped() throws Exception {
        String task = "task: " + "migrate the schema ".repeat(40);
        String holder = provider(send("spread-model", "ses_s", chat(system, task)));
        outsideLoad(holder, 17);
        HttpResponse<String> next = send("spread-model", "ses_s", conversation(task, 2));
        assertNotEquals(holder, provider(next), "17 requests more than the least loaded is past the bound (16)");
        JsonNode routing = ledger(next).path("routing");
        assertEquals("least_loaded", routing.path("reason").asText(), routing.toString());
        assertEquals(0, routing.path("matched_blocks").asInt(), "r2 holds nothing of it, so it prefills all: "
                + routing);
    }

    @Test
    void aColdPromptGoesToTheLeastLoadedBackend() throws Exception {
        outsideLoad("r1", 3);
        outsideLoad("r2", 1);
        outsideLoad("r3", 2);
        HttpResponse<String> cold = send("spread-model", null, chat("A prompt nobody has seen " + UUID.randomUUID(),
                "hello"));
        assertEquals("r2", provider(cold));
        assertEquals("least_loaded", ledger(cold).path("routing").path("reason").asText());
    }

    @Test
    void aFullBackendNeverHoldsARequestWhileAnotherHasRoom() throws Exception {
        String task = "task: " + "refactor the parser ".repeat(40);
        String holder = provider(send("spread-model", "ses_f", chat(system, task)));
        fake(holder).always(Behavior.stream(40).tokenDelay(50));
        CompletableFuture<HttpResponse<String>> holding = gateway.postAsync("/v1/chat/completions",
                conversation(task, 2));
        admin.await(holder, backend -> backend.get("inFlight").asInt() == 1, 3000);

        long start = System.nanoTime();
        HttpResponse<String> third = send("spread-model", "ses_f", conversation(task, 3));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertNotEquals(holder, provider(third), "the holder of the prefix has its one slot taken");
        assertTrue(elapsedMs < 1500, "it did not wait for r1's slot (the wait bound is 2 s): " + elapsedMs + " ms");
        assertEquals(200, holding.get(10, TimeUnit.SECONDS).statusCode());
    }

    @Test
    void aHedgeCommitsTheFirstToDeliverAndClosesTheOtherWithinASecond() throws Exception {
        // r1 takes the request (the others are busy with outside traffic) and stalls; the hedge needs only a free slot.
        outsideLoad("r2", 17);
        outsideLoad("r3", 18);
        replica(1).then(Behavior.stream(5).firstTokenDelay(8_000));
        // traced: each attempt of the race is a span of its own
        var spans = io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create();
        var tracing = io.quarkus.arc.Arc.container().instance(org.canonic.gateway.telemetry.Tracing.class).get();
        tracing.export(spans);
        HttpResponse<String> hedged;
        try {
            hedged = send("spread-model", null, chat(system, "a question " + UUID.randomUUID()));
        } finally {
            tracing.stopExporting(spans);
        }

        assertEquals(200, hedged.statusCode(), hedged.body());
        assertTrue(hedged.body().contains("tok2") && hedged.body().endsWith("data: [DONE]\n\n"), hedged.body());
        assertEquals("r2", provider(hedged), "the hedge on the first idle replica answered first");
        Received slow = replica(1).lastCompletion();
        Received fast = replica(2).lastCompletion();
        long closedNanos = slow.closedEarly.get(2, TimeUnit.SECONDS);
        assertTrue(closedNanos - fast.receivedNanos < 1_000_000_000L, "the loser's upstream was closed "
                + (closedNanos - fast.receivedNanos) / 1_000_000 + " ms after the hedge was sent");
        assertTrue(fast.receivedNanos - slow.receivedNanos >= RoutingProfile.HEDGE_AFTER_MS * 1_000_000L,
                "the hedge waited for the first token to be late");

        JsonNode record = ledger(hedged);
        assertEquals("r2", record.path("backend").asText());
        assertEquals("r2", record.at("/routing/hedge/backend").asText());
        assertEquals("won", record.at("/routing/hedge/outcome").asText());
        List<String> outcomes = new ArrayList<>();
        record.path("attempts").forEach(attempt -> outcomes.add(attempt.path("backend").asText() + ":"
                + attempt.path("outcome").asText() + (attempt.path("hedge").asBoolean() ? ":hedge" : "")));
        assertEquals(List.of("r1:hedge_lost", "r2:completed:hedge"), outcomes);
        List<String> attemptSpans = spans.getFinishedSpanItems().stream()
                .filter(span -> span.getKind() == io.opentelemetry.api.trace.SpanKind.CLIENT)
                .map(span -> span.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey(
                        "gateway.backend")) + ":" + span.getAttributes().get(
                        io.opentelemetry.api.common.AttributeKey.stringKey("gateway.outcome"))
                        + (Boolean.TRUE.equals(span.getAttributes().get(io.opentelemetry.api.common.AttributeKey
                        .booleanKey("gateway.attempt.hedge"))) ? ":hedge" : "")).sorted().toList();
        assertEquals(List.of("r1:hedge_lost", "r2:completed:hedge"), attemptSpans);
        admin.await("r1", backend -> backend.get("inFlight").asInt() == 0, 2000);
        String metrics = management.get("/q/metrics").body();
        assertTrue(metrics.contains("gateway_hedges_total{event=\"won\",route=\"spread\"}"), metrics);
    }

    @Test
    void theHedgeBudgetHolds() throws Exception {
        // r1 never answers: unhedged requests fail over when its (1 s) first-token clock expires. It teaches r1's TTFT
        // model nothing, so every request is late for it after the same 300 ms.
        replica(1).always(Behavior.stream(3).firstTokenDelay(5_000));
        outsideLoad("r2", 17);
        outsideLoad("r3", 18);
        int requests = 10;
        int hedged = 0;
        for (int i = 0; i < requests; i++) {
            HttpResponse<String> answer = send("budget-model", null, chat(system + i, "q" + i));
            assertEquals(200, answer.statusCode(), answer.body());
            if (!ledger(answer).at("/routing/hedge").isMissingNode()) {
                hedged++;
            }
        }
        // Every request went to r1 first (the others are busy with outside traffic) and was late there; the route may
        // hedge a fifth of the last minute's requests: the 5th and 10th.
        assertEquals((int) (requests * RoutingProfile.BUDGET_SHARE), hedged);
    }

    @Test
    void aMissingSlowOrGarbageMetricsPageNeverFailsARequest() throws Exception {
        replica(1).metrics("<html><body>502 Bad Gateway</body></html>");
        replica(2).metrics(FakeVllm.vllmMetrics(1, 0, 0.1, 0, 0)).metricsDelay(1000);
        replica(3).metrics("vllm:num_requests_running{engine=\"0\"} many\n");
        admin.await("r1", backend -> backend.path("load").path("signals").asText().equals("GARBAGE"), 3000);
        admin.await("r2", backend -> backend.path("load").path("signals").asText().equals("SLOW"), 3000);
        admin.await("r3", backend -> backend.path("load").path("signals").asText().equals("GARBAGE"), 3000);
        for (int i = 0; i < 6; i++) {
            String body = i % 2 == 0 ? chat(system, "q" + i) : chat(system, "q" + i).replace("\"stream\":true",
                    "\"stream\":false");
            HttpResponse<String> answer = send("spread-model", null, body);
            assertEquals(200, answer.statusCode(), answer.body());
        }
        assertTrue(admin.backend("r1").path("load").path("running").isNull(), "no signals: routed on own counts");
    }

    @Test
    void aShortPromptFailsOverQuicklyUnderItsPromptSizedFirstTokenClock() throws Exception {
        outsideLoad("r2", 17);
        outsideLoad("r3", 18);
        replica(1).then(Behavior.stream(3).firstTokenDelay(4_000));
        long start = System.nanoTime();
        HttpResponse<String> answer = send("steady-model", null, chat("short " + UUID.randomUUID(), "hi"));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("r2", provider(answer), "r1 timed out, r2 is the less loaded of the rest");
        JsonNode first = ledger(answer).path("attempts").get(0);
        assertEquals("r1", first.path("backend").asText());
        assertEquals("first_token_timeout", first.path("outcome").asText(), first.toString());
        assertTrue(first.path("elapsed_ms").asLong() < 2500, "the clock was about its 1 s base, not the backend's"
                + " 10 s: " + first);
        assertTrue(elapsedMs < 4000, "the client did not wait for the slow replica: " + elapsedMs + " ms");
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** Backend {@code name}'s metrics page says {@code running} requests of other clients run there; waits for it. */
    private void outsideLoad(String name, int running) throws InterruptedException {
        fake(name).metrics(FakeVllm.vllmMetrics(running, 0, 0.5, 0, 0));
        admin.await(name, backend -> backend.path("load").path("outside").asInt() == running
                && backend.path("load").path("running").asInt(-1) == running, 3000);
    }

    /** The fake behind backend {@code r1}, {@code r2} or {@code r3}. */
    private static FakeVllm fake(String name) {
        return replica(Integer.parseInt(name.substring(1)));
    }

    private HttpResponse<String> send(String model, String session, String body) {
        String id = "routing-" + UUID.randomUUID();
        String json = body.replace("\"model\":\"spread-model\"", "\"model\":\"" + model + "\"");
        return session == null ? gateway.post("/v1/chat/completions", json, "x-request-id", id)
                : gateway.post("/v1/chat/completions", json, "x-request-id", id, "x-session-id", session);
    }

    /** The backend that answered: the header, or the in-band comment when the head left before the first token. */
    private static String provider(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response.body());
        String header = response.headers().firstValue("x-gateway-provider").orElse("");
        if (!header.equals("pending")) {
            return header;
        }
        Matcher matcher = IN_BAND_PROVIDER.matcher(response.body());
        assertTrue(matcher.find(), response.body());
        return matcher.group(1);
    }

    private static JsonNode ledger(HttpResponse<String> response) throws Exception {
        String id = response.headers().firstValue("x-request-id").orElseThrow();
        return LedgerLines.await(FakeBackends.ledger().getParent(), id, 1, 5000).get(id).get(0);
    }

    /** A Kilo Code-like streamed chat request: the system prompt, then user and assistant turns in order. */
    private static String chat(String system, String... turns) {
        ObjectNode body = MAPPER.createObjectNode().put("model", "spread-model").put("stream", true)
                .put("max_tokens", 64);
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        for (int i = 0; i < turns.length; i++) {
            messages.addObject().put("role", i % 2 == 0 ? "user" : "assistant").put("content", turns[i]);
        }
        return body.toString();
    }

    /** Turn {@code turn} of a session that started with {@code task}: the history grows by an answer and a result. */
    private String conversation(String task, int turn) {
        List<String> turns = new ArrayList<>();
        turns.add(task);
        for (int i = 2; i <= turn; i++) {
            turns.add("answer " + i + ": I read the files. " + "details ".repeat(20));
            turns.add("tool result " + i + ": " + "file contents ".repeat(60));
        }
        return chat(system, turns.toArray(String[]::new));
    }
}

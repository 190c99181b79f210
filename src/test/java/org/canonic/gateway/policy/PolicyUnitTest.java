package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.fleet.LiveBackends;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.backend.UpstreamEndpoint;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token ceilings and window fit as pure arithmetic, table-driven. */
class PolicyUnitTest {

    private final RequestJson json = new RequestJson();

    private PolicyContext request(String body) throws Exception {
        PolicyContext context = new PolicyContext("t", Endpoint.CHAT_COMPLETIONS, MultiMap.caseInsensitiveMultiMap(),
                System.nanoTime());
        context.body(Buffer.buffer(body));
        context.body = (ObjectNode) json.parse(Buffer.buffer(body));
        context.model = "m";
        return context;
    }

    /** asked ("-" = none), min, max, default, expected limit. */
    @Test
    void ceilingArithmetic() throws Exception {
        Object[][] table = {
                {"-", 1, 32768, 4096, 4096},
                {"100", 1, 32768, 4096, 100},
                {"32000", 1, 8192, 4096, 8192},
                {"5", 16, 8192, 4096, 16},
                {"32768", 1, 32768, 4096, 32768},
        };
        for (Object[] row : table) {
            String field = row[0].equals("-") ? "" : ",\"max_tokens\":" + row[0];
            PolicyContext context = request("{\"model\":\"m\",\"messages\":[]" + field + "}");
            new TokenCeilingFilter((int) row[1], (int) row[2], (int) row[3], false).check(context);
            assertEquals((int) row[4], context.limit, java.util.Arrays.toString(row));
            assertEquals("max_tokens", context.limitField);
        }
    }

    @Test
    void maxCompletionTokensWinsAndIsKept() throws Exception {
        PolicyContext context = request("{\"max_tokens\":10,\"max_completion_tokens\":20}");
        new TokenCeilingFilter(1, 100, 50, false).check(context);
        assertEquals(20, context.limit);
        assertEquals("max_completion_tokens", context.limitField);
    }

    @Test
    void overTheCeilingCanBeRefusedInstead() throws Exception {
        PolicyContext context = request("{\"max_tokens\":50000}");
        Refusal refusal = assertThrows(Refusal.class, () -> new TokenCeilingFilter(1, 32768, 4096, true).check(context));
        assertEquals(400, refusal.error().status());
        assertEquals("max_tokens_too_large", refusal.error().code());
    }

    private static LiveBackend backend(String name, int window, int tokensMax) {
        return LiveBackends.of(new Backend(name, UpstreamEndpoint.parse("http://127.0.0.1:9/v1"), "m", 1, 0,
                new Clocks(1, 1, 1, 1), 1, Backend.ProbeKind.NONE, window, tokensMax, null, false));
    }

    private ContextFit.Plan plan(String text, int limit, List<LiveBackend> backends) throws Exception {
        PolicyContext context = request("{\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}");
        context.limit = limit;
        ContextFit fit = new ContextFit(null, json, 64, 16);
        return fit.plan(context, backends).toCompletionStage().toCompletableFuture().get();
    }

    @Test
    void windowFitWithoutATokenizerUsesTheUpperBound() throws Exception {
        String text = "x".repeat(25_000);
        // 25_015 bytes with the field names "role", "content" and the role "user": upper bound 10_006 + 8 per message.
        int upper = (int) Math.ceil(25_015 / 2.5) + 8;
        LiveBackend unknown = backend("unknown", 0, 0);
        LiveBackend eightK = backend("8k", 8192, 0);
        LiveBackend sixteenK = backend("16k", 16384, 0);
        LiveBackend sixtyFourK = backend("64k", 65536, 0);
        LiveBackend capped = backend("capped", 65536, 2048);

        Map<String, Integer> limits = limits(plan(text, 32000, List.of(unknown, eightK, sixteenK, sixtyFourK, capped)));
        // 8K cannot hold the prompt; 16K holds it and gets what is left; unknown windows are not checked.
        assertEquals(Map.of("unknown", 32000, "16k", 16384 - 64 - upper, "64k", 32000, "capped", 2048), limits);
    }

    @Test
    void nothingFitsMeansContextLengthExceeded() {
        Exception failure = assertThrows(Exception.class, () -> plan("x".repeat(200_000), 100,
                List.of(backend("8k", 8192, 0), backend("16k", 16384, 0))));
        Refusal refusal = (Refusal) failure.getCause();
        assertEquals("context_length_exceeded", refusal.error().code());
        assertTrue(refusal.error().message().contains("16384"), refusal.error().message());
    }

    @Test
    void promptBoundsBracketRealTokenizers() {
        // Qwen2.5 counts these samples at (measured offline): English 11 tokens, code 14, CJK 10.
        Object[][] samples = {
                {"The quick brown fox jumps over the lazy dog near the river.", 11},
                {"for (int i = 0; i < n; i++) { sum += a[i]; }", 14},
                {"今天天气很好我们去公园散步", 10},
        };
        for (Object[] sample : samples) {
            ObjectNode body = new RequestJson().mapper().createObjectNode();
            body.putArray("messages").addObject().put("role", "user").put("content", (String) sample[0]);
            PromptSize size = PromptSize.measure(body, Endpoint.CHAT_COMPLETIONS);
            assertTrue(size.lower() <= (int) sample[1] && (int) sample[1] <= size.upper(),
                    sample[0] + ": " + size + " must bracket " + sample[1]);
        }
    }

    private static Map<String, Integer> limits(ContextFit.Plan plan) {
        java.util.Map<String, Integer> limits = new java.util.HashMap<>();
        plan.candidates().forEach(c -> limits.put(c.backend().name(), c.maxTokens()));
        return limits;
    }
}

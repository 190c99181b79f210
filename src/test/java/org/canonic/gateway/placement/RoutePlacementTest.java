package org.canonic.gateway.placement;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.fleet.Route;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.Endpoint;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.canonic.gateway.placement.PrefixIndexTest.backend;
import static org.canonic.gateway.placement.PromptBlocksTest.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How each policy ranks a route's backends, on live backends whose load is set by taking their slots. */
class RoutePlacementTest {

    private static final String SYSTEM = "You are Kilo Code, a coding agent. Tools follow. ".repeat(60);

    private final LiveBackend a = backend("a");
    private final LiveBackend b = backend("b");
    private final LiveBackend c = backend("c");
    private final LiveBackend fallback = backend("fallback");
    private final Route route = new Route("chat", List.of("m"), List.of(a, b, c));

    private static RoutePlacement placement(RoutingConfig.Policy policy) {
        RoutingConfig.Affinity affinity = ConfigFixture.with().build().routing().affinity();
        return new RoutePlacement("chat", Optional.ofNullable(policy), affinity, true, 0.1);
    }

    private ProxyRequest request(ObjectNode body, String session, LiveBackend... order) {
        List<Candidate> candidates = new ArrayList<>();
        for (LiveBackend backend : order) {
            candidates.add(new Candidate(backend, 100));
        }
        return new ProxyRequest("r", "k", Endpoint.CHAT_COMPLETIONS, body, true, false, "m", route, candidates,
                "max_tokens", 1000, false, MultiMap.caseInsensitiveMultiMap(), session, System.nanoTime(), null);
    }

    private Placement place(RoutePlacement placement, ObjectNode body, String session) {
        ProxyRequest request = request(body, session, a, b, c, fallback);
        return placement.place(request, request.candidates());
    }

    private static List<String> order(Placement placement) {
        return placement.candidates().stream().map(candidate -> candidate.backend().name()).toList();
    }

    private static void load(LiveBackend backend, int requests) {
        for (int i = 0; i < requests; i++) {
            assertTrue(backend.slots().tryAcquire("load"));
        }
    }

    @Test
    void aColdPromptGoesToTheLeastLoadedBackendAndTheFallbackStaysLast() {
        load(a, 3);
        load(b, 1);
        load(c, 2);
        Placement placement = place(placement(null), chat(SYSTEM, "a task nobody saw"), null);
        assertEquals(List.of("b", "c", "a", "fallback"), order(placement));
        assertEquals(Placement.Reason.LEAST_LOADED, placement.reason(0));
        assertEquals(Placement.Reason.FALLBACK, placement.reason(3));
        assertEquals("cache-aware", placement.policy(), "the default with several backends");
    }

    @Test
    void aSessionsNextTurnGoesWhereItsPrefixIsUnlessThatBackendIsTooBusy() {
        RoutePlacement placement = placement(null);
        ObjectNode turn1 = chat(SYSTEM, "task: rename a function " + "in many files ".repeat(40));
        Placement first = place(placement, turn1, "ses_1");
        assertEquals("a", order(first).get(0), "cold, all idle: configuration order breaks the tie");
        first.sent(a);

        load(a, 12);
        ObjectNode turn2 = chat(SYSTEM, "task: rename a function " + "in many files ".repeat(40),
                "I will read them", "file contents " + "code ".repeat(300));
        Placement second = place(placement, turn2, "ses_1");
        assertEquals("a", order(second).get(0), "a holds the prefix; 12 more requests is within the bound (16)");
        assertEquals(Placement.Reason.PREFIX, second.reason(0));
        assertTrue(second.matchedBlocks(0) > 20, "matched " + second.matchedBlocks(0));
        assertTrue(second.uncachedTokens(0) < second.uncachedTokens(1), "less to prefill where the prefix is");

        load(a, 5);
        Placement third = place(placement, turn2, "ses_1");
        assertEquals("b", order(third).get(0), "17 more requests than the least loaded is past the bound");
        assertEquals(Placement.Reason.LEAST_LOADED, third.reason(0));
        assertEquals("a", order(third).get(2), "the busy holder of the prefix comes last of the route");
    }

    @Test
    void theBoundGrowsWithTheLoad() {
        RoutePlacement placement = placement(null);
        ObjectNode turn = chat(SYSTEM, "a long task " + "words ".repeat(200));
        place(placement, turn, null).sent(c);
        load(a, 20);
        load(b, 20);
        load(c, 40);
        // Least is 20: the bound is 20 + max(16, 1.0 x 20) = 40, so c (40) still gets its prefix back.
        assertEquals("c", order(place(placement, turn, null)).get(0));
        load(c, 1);
        assertEquals("a", order(place(placement, turn, null)).get(0));
    }

    @Test
    void whenNoBackendHoldsMoreThanAnotherTheSessionDecides() {
        RoutePlacement placement = placement(null);
        // Two sessions share only the system prompt, which every backend computed.
        place(placement, chat(SYSTEM, "first session's task"), "ses_a").sent(a);
        place(placement, chat(SYSTEM, "second session's task"), "ses_b").sent(b);
        place(placement, chat(SYSTEM, "third session's task"), "ses_c").sent(c);
        Placement again = place(placement, chat(SYSTEM, "a new task of session b " + "x".repeat(500)), "ses_b");
        assertEquals("b", order(again).get(0));
        assertEquals(Placement.Reason.SESSION, again.reason(0));
    }

    @Test
    void aNewSessionIsPlacedByLoadNotByTheSharedSystemPrompt() {
        RoutePlacement placement = placement(null);
        place(placement, chat(SYSTEM, "first session's task"), "ses_1").sent(a);
        load(a, 1);
        // a holds the shared system prompt, b and c nothing: a continuing prompt would follow it to a...
        Placement anonymous = place(placement, chat(SYSTEM, "a prompt of no session"), null);
        assertEquals("a", order(anonymous).get(0));
        assertEquals(Placement.Reason.PREFIX, anonymous.reason(0));
        // ...but a session's first request spreads the sessions by load, or c would never get one.
        Placement second = place(placement, chat(SYSTEM, "second session's task"), "ses_2");
        assertEquals("b", order(second).get(0));
        assertEquals(Placement.Reason.LEAST_LOADED, second.reason(0));
    }

    @Test
    void amongEqualPrefixesTheOneWithLessPrefillQueuedWins() {
        RoutePlacement placement = placement(null);
        b.load().prefillStarted(20_000);
        try {
            // Nothing cached anywhere; b and c equally loaded in requests, but b has a 20k-token prefill to do first.
            load(a, 1);
            assertEquals("c", order(place(placement, chat(SYSTEM, "cold"), null)).get(0));
        } finally {
            b.load().prefillEnded(20_000);
        }
    }

    @Test
    void leastLoadedAndOrderedPolicies() {
        load(a, 2);
        load(c, 1);
        Placement least = place(placement(RoutingConfig.Policy.LEAST_LOADED), chat(SYSTEM, "q"), null);
        assertEquals(List.of("b", "c", "a", "fallback"), order(least));
        assertEquals(0, least.promptBlocks(), "least-loaded does not hash the prompt");
        Placement ordered = place(placement(RoutingConfig.Policy.ORDERED), chat(SYSTEM, "q"), null);
        assertEquals(List.of("a", "b", "c", "fallback"), order(ordered), "ordered ignores load, as before");
        assertTrue(ordered.queuesAtEachCandidate());
        assertEquals(Placement.Reason.ORDERED, ordered.reason(0));
    }

    @Test
    void aRouteWithOneBackendIsOrderedByDefault() {
        Route solo = new Route("solo", List.of("m"), List.of(a));
        ProxyRequest request = new ProxyRequest("r", "k", Endpoint.CHAT_COMPLETIONS, chat("s", "q"), false, false,
                "m", solo, List.of(new Candidate(a, 10), new Candidate(fallback, 10)), "max_tokens", 10, false,
                MultiMap.caseInsensitiveMultiMap(), null, System.nanoTime(), null);
        Placement placement = placement(null).place(request, request.candidates());
        assertEquals("ordered", placement.policy());
        assertEquals(List.of("a", "fallback"), order(placement));
    }
}

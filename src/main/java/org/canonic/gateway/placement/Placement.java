package org.canonic.gateway.placement;

import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.Endpoint;
import org.canonic.gateway.policy.ProxyRequest;

import java.util.List;
import java.util.Locale;

/**
 * Where one request should go: its candidates in the order to try them, why each is where it is, and what the
 * route's prefix index knew of the prompt. Built once per request by its route's {@link RoutePlacement}; the exchange
 * reports back each backend it actually sends the prompt to ({@link #sent}), which is what teaches the index and the
 * session memory.
 */
public final class Placement {

    /** Why a candidate was ranked where it is; the ledger and the metrics use the labels. */
    public enum Reason {
        /** It holds the longest part of the prompt in its prefix cache (within the load bound). */
        PREFIX,
        /** No backend held more of the prompt than another; the client's session was last served here. */
        SESSION,
        /** The least load among the candidates left. */
        LEAST_LOADED,
        /** Configuration order (the {@code ordered} policy). */
        ORDERED,
        /** The global fallback, always last. */
        FALLBACK;

        private final String label = name().toLowerCase(Locale.ROOT);

        public String label() {
            return label;
        }
    }

    private final RoutePlacement route;
    private final RoutingConfig.Policy policy;
    private final ProxyRequest request;
    private final List<Candidate> candidates;
    private final Reason[] reasons;
    private final int[] matched;
    /** The prompt's blocks (cache-aware placement only; null otherwise). */
    private final PromptBlocks prompt;
    private long chars = -1;

    Placement(RoutePlacement route, RoutingConfig.Policy policy, ProxyRequest request, List<Candidate> candidates,
              Reason[] reasons, int[] matched, PromptBlocks prompt) {
        this.route = route;
        this.policy = policy;
        this.request = request;
        this.candidates = candidates;
        this.reasons = reasons;
        this.matched = matched;
        this.prompt = prompt;
    }

    /** The candidates in the order to try them: the chosen one first, the fallback last. */
    public List<Candidate> candidates() {
        return candidates;
    }

    /**
     * Whether the request queues at each candidate in turn (the {@code ordered} policy, as before policies existed)
     * rather than taking the first candidate with room.
     */
    public boolean queuesAtEachCandidate() {
        return policy == RoutingConfig.Policy.ORDERED;
    }

    /** The policy's name as configured ({@code cache-aware}). */
    public String policy() {
        return policy.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Which candidates are not the route's own (the global fallback), aligned with {@link #candidates()}. */
    public boolean[] fallbacks() {
        boolean[] fallbacks = new boolean[reasons.length];
        for (int i = 0; i < reasons.length; i++) {
            fallbacks[i] = reasons[i] == Reason.FALLBACK;
        }
        return fallbacks;
    }

    public Reason reason(int index) {
        return reasons[index];
    }

    /** Leading prompt blocks the index believes each candidate holds, aligned with {@link #candidates()}. */
    public int[] matchedBlocks() {
        return matched.clone();
    }

    /** Leading prompt blocks the index believes candidate {@code index} holds (0 when unknown). */
    public int matchedBlocks(int index) {
        return matched[index];
    }

    /** The prompt's full blocks (0 when the policy did not hash the prompt). */
    public int promptBlocks() {
        return prompt == null ? 0 : prompt.count();
    }

    /** Whether the route's streams may be hedged, and the budget that rations them. */
    public HedgeBudget hedges() {
        return route.hedgingEnabled() ? route.hedges() : null;
    }

    /**
     * Estimated prompt tokens candidate {@code index} must prefill: the prompt less what its cache is believed to hold.
     * Sizes the attempt's first-token clock and tells late from slow.
     */
    public long uncachedTokens(int index) {
        if (prompt != null) {
            return prompt.uncachedTokens(matched[index]);
        }
        if (chars < 0) {
            chars = PromptBlocks.charsOf(request.body(), request.endpoint() == Endpoint.CHAT_COMPLETIONS);
        }
        return (chars + PromptBlocks.CHARS_PER_TOKEN - 1) / PromptBlocks.CHARS_PER_TOKEN;
    }

    /** The prompt was sent to {@code backend}: its cache now holds it, and the session's next request may follow. */
    public void sent(LiveBackend backend) {
        route.sent(this, backend);
    }

    PromptBlocks prompt() {
        return prompt;
    }

    ProxyRequest request() {
        return request;
    }
}

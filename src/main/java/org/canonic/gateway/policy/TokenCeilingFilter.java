package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The completion limit every request ends up with: {@code MAX_TOKENS} when it set none, clamped to
 * {@code TOKENS_MAX} (or refused, if so configured), raised to {@code TOKENS_MIN}. The client's own field is kept
 * ({@code max_completion_tokens} wins over {@code max_tokens}, as in vLLM). Per-backend ceilings and window fit
 * narrow it further per candidate.
 */
final class TokenCeilingFilter implements PolicyFilter {

    static final String MAX_TOKENS = "max_tokens";
    static final String MAX_COMPLETION_TOKENS = "max_completion_tokens";

    private final int min;
    private final int max;
    private final int defaultLimit;
    private final boolean refuseOverCeiling;

    TokenCeilingFilter(int min, int max, int defaultLimit, boolean refuseOverCeiling) {
        this.min = min;
        this.max = max;
        this.defaultLimit = defaultLimit;
        this.refuseOverCeiling = refuseOverCeiling;
    }

    @Override
    public void check(PolicyContext request) {
        JsonNode completion = request.body().get(MAX_COMPLETION_TOKENS);
        JsonNode tokens = request.body().get(MAX_TOKENS);
        JsonNode asked = present(completion) ? completion : present(tokens) ? tokens : null;
        String field = asked == completion && asked != null ? MAX_COMPLETION_TOKENS : MAX_TOKENS;
        int limit = asked == null ? defaultLimit : asked.asInt();
        if (limit > max) {
            if (refuseOverCeiling) {
                throw Refusal.badRequest("'" + field + "' is " + limit + "; this gateway allows at most " + max + ".",
                        field, "max_tokens_too_large");
            }
            limit = max;
        }
        request.limit = Math.max(limit, min);
        request.limitField = field;
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull();
    }
}

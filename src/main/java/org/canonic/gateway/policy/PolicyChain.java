package org.canonic.gateway.policy;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import org.canonic.gateway.backend.Tokenizer;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.GuardConfig;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.fleet.Fleet;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * The fail-closed gate in front of routing. Every proxied request passes every filter, in the order listed here:
 * the header filters before its body is read, the body filters after, then the context-window fit. The only way
 * to a {@link ProxyRequest} (and so to a backend) is {@link #admit(PolicyContext)}.
 */
public final class PolicyChain {

    private static final Logger LOG = Logger.getLogger(PolicyChain.class);

    private final AuthFilter auth;
    private final List<PolicyFilter> headerFilters;
    private final List<PolicyFilter> bodyFilters;
    private final Fleet fleet;
    private final ContextFit contextFit;
    private final KeyLimits keyLimits;
    private final KeyBudgets budgets;
    private final ForwardedHeaders forwardedHeaders;
    /** The header naming a client's session (Kilo Code's {@code x-session-id}). */
    private final String sessionHeader;
    private static final int MAX_SESSION_LENGTH = 256;

    public PolicyChain(Fleet fleet, RequestJson json, KeyRing keys, GatewayConfig config, Tokenizer tokenizer) {
        this(fleet, json, keys, config, tokenizer, KeyBudgets.DailyUsage.NONE);
    }

    /** @param usage today's usage per key, for the daily budgets */
    public PolicyChain(Fleet fleet, RequestJson json, KeyRing keys, GatewayConfig config, Tokenizer tokenizer,
                       KeyBudgets.DailyUsage usage) {
        this.fleet = fleet;
        this.keyLimits = new KeyLimits(config.keyLimits());
        GuardConfig.Tokens tokens = config.tokens();
        this.auth = new AuthFilter(keys, KeyLoader.required(config.auth()));
        this.headerFilters = List.of(
                auth,
                new ContentTypeFilter());
        this.budgets = new KeyBudgets(config.keyLimits(), usage);
        this.bodyFilters = List.of(
                new JsonBodyFilter(json),
                new ModelRouteFilter(),
                new RoutePermissionFilter(),
                new ShapeFilter(),
                new StreamFlagsFilter(),
                new TokenCeilingFilter(tokens.min(), tokens.max(), tokens.defaultLimit(),
                        tokens.overCeiling().strip().equalsIgnoreCase("refuse")));
        GuardConfig.ContextFit fit = config.contextFit();
        this.contextFit = new ContextFit(tokenizer, json, fit.safetyMargin(), fit.minCompletionTokens());
        this.forwardedHeaders = new ForwardedHeaders(config.forwardHeaders(),
                config.limits().maxForwardedHeadersSize().asLongValue());
        this.sessionHeader = config.routing().affinity().sessionHeader().strip();
    }

    /**
     * The session the client names, for routing only (it never becomes a label or a log field): a header value of
     * sane length, else none.
     */
    private String sessionOf(PolicyContext request) {
        String value = sessionHeader.isEmpty() ? null : request.headers().get(sessionHeader);
        return value == null || value.isBlank() || value.length() > MAX_SESSION_LENGTH ? null : value;
    }

    /**
     * Authenticates a request that is not proxied (the model list): the same key check, same errors. Empty when
     * authentication is off.
     */
    public java.util.Optional<ClientKeys.Entry> authenticate(String authorization) {
        PolicyContext probe = new PolicyContext("models", Endpoint.CHAT_COMPLETIONS,
                MultiMap.caseInsensitiveMultiMap().addAll(authorization == null ? java.util.Map.of()
                        : java.util.Map.of("authorization", authorization)), System.nanoTime());
        run(List.of(auth), probe);
        return java.util.Optional.ofNullable(probe.key);
    }

    /** The checks that need only headers: run before the body is read. Throws {@link Refusal}. */
    public void checkHeaders(PolicyContext request) {
        run(headerFilters, request);
    }

    /**
     * Runs the body filters and the window fit; the future fails with a {@link Refusal} (and only ever with one) when
     * the request is refused.
     * A filter that fails in an unexpected way refuses the request too: when validation cannot be performed, nothing
     * is forwarded.
     */
    public Future<ProxyRequest> admit(PolicyContext request) {
        try {
            if (request.keyId == null) {
                throw unavailable();
            }
            // Here rather than with the header filters: a refusal here carries its Retry-After (midnight UTC).
            budgets.check(request);
            request.fleet = fleet.snapshot();
            run(bodyFilters, request);
            if (request.body == null || request.route == null || request.limitField == null) {
                throw unavailable();
            }
        } catch (Refusal refusal) {
            return Future.failedFuture(refusal);
        }
        return contextFit.plan(request, request.fleet.candidates(request.route))
                .map(plan -> new ProxyRequest(request.requestId(), request.keyId, request.endpoint(), request.body,
                        request.stream, request.clientWantsUsage, request.model, request.route, plan.candidates(),
                        request.limitField, plan.promptTokens(), plan.promptExact(),
                        forwardedHeaders.select(request.headers(), request.requestId()), sessionOf(request),
                        request.startNanos(),
                        keyLimits.admit(request.keyId, cost(request, plan.promptTokens()))))
                .recover(failure -> Future.failedFuture(asRefusal(request.requestId(), failure)));
    }

    /** The most a request can cost its key: its prompt plus {@code n} completions of its limit. */
    private static long cost(PolicyContext request, int promptTokens) {
        int n = Math.max(1, request.body.path("n").asInt(1));
        return Math.max(0, promptTokens) + (long) n * request.limit;
    }

    private static void run(List<PolicyFilter> filters, PolicyContext request) {
        for (PolicyFilter filter : filters) {
            try {
                filter.check(request);
            } catch (Refusal refusal) {
                throw refusal;
            } catch (RuntimeException e) {
                throw asRefusal(request.requestId(), e);
            }
        }
    }

    /**
     * The refusal an admission failure stands for: itself when it is one; otherwise validation could not be
     * performed, which is logged and refused too (fail closed).
     */
    public static Refusal asRefusal(String requestId, Throwable failure) {
        if (failure instanceof Refusal refusal) {
            return refusal;
        }
        LOG.errorf(failure, "Validation of request %s failed unexpectedly; refusing it", requestId);
        return unavailable();
    }

    private static Refusal unavailable() {
        return new Refusal(OpenAiError.server(500,
                "The request could not be validated, so it was not forwarded. Retry later.", "validation_unavailable"));
    }
}

package org.canonic.gateway.placement;

import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.Endpoint;
import org.canonic.gateway.policy.ProxyRequest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * One route's placement of requests on its backends, and what it remembers between requests: the prefix index, the
 * sessions' last backends and the hedge budget. It ranks; it never admits: health gating, breakers, drain, key
 * permissions and window fit happened before (the candidates it gets are routable, fitted and ordered by health), and
 * slots, fair share and queueing happen after, in the exchange.
 *
 * <p>Policies:
 * <ul>
 *   <li>{@code ordered}: the candidates as they come (health, then configuration order), as before policies existed.
 *   </li>
 *   <li>{@code least-loaded}: within each health class, the least {@link org.canonic.gateway.fleet.BackendLoad#score()
 *       load} first (configuration order among equals).</li>
 *   <li>{@code cache-aware}: among the backends of the best health class whose load is within the bound of the least
 *       loaded one (load at most {@code least + max(max-imbalance, max-imbalance-ratio x least)}), the one where the
 *       prompt can expect its first token soonest: the backend's learned TTFT ({@link
 *       org.canonic.gateway.fleet.TtftModel}) for the prefill already queued there plus the part of this prompt its
 *       cache is not believed to hold. That is the longest prefix, made quantitative: it wins unless the prefill
 *       queued in front of it costs more than the prefix saves (a replica busy with a 20k-token cold prompt is a
 *       second away from any first token). Within {@link #EQUIVALENT_NANOS} or 10 % of each other, the longer
 *       prefix, then the session's last backend, then the lighter load win. A cold prompt (held nowhere) therefore
 *       goes where the least prefill waits. The rest follow by load.</li>
 * </ul>
 * The bound is SGLang's imbalance gate applied per candidate rather than consistent hashing with bounded loads: a
 * hash ring places a key by its hash, but here the key (the prompt's prefix) is found in an index, and the ring's
 * stable successor would be a replica with no more of the prompt than any other. The gate keeps the choice where the
 * cache is unless that replica is clearly busier, and then picks among the others by what they hold and their load.
 * The global fallback is always last, whatever the policy.
 */
public final class RoutePlacement {

    /** Expected first tokens this close are equivalent: the models behind them are not finer than that. */
    static final double EQUIVALENT_NANOS = 20_000_000;

    private final String route;
    private final Optional<RoutingConfig.Policy> configured;
    private final RoutingConfig.Affinity affinity;
    private final boolean hedging;
    private final PrefixIndex index;
    private final SessionAffinity sessions = new SessionAffinity();
    private final HedgeBudget hedges;

    RoutePlacement(String route, Optional<RoutingConfig.Policy> configured, RoutingConfig.Affinity affinity,
                   boolean hedging, double hedgeShare) {
        this.route = route;
        this.configured = configured;
        this.affinity = affinity;
        this.hedging = hedging;
        this.index = new PrefixIndex(affinity.indexSize().asLongValue(), affinity.ttl().toSeconds());
        this.hedges = new HedgeBudget(hedgeShare);
    }

    public String route() {
        return route;
    }

    /** The index of this route (its size is a gauge). */
    public PrefixIndex index() {
        return index;
    }

    boolean hedgingEnabled() {
        return hedging;
    }

    HedgeBudget hedges() {
        return hedges;
    }

    /**
     * Ranks a request's candidates. {@code routable} are the ones that may take it now, healthiest first (the order
     * ties keep); the route's own backends are ranked by the policy, any other candidate (the fallback) goes last.
     */
    public Placement place(ProxyRequest request, List<Candidate> routable) {
        hedges.request();
        List<LiveBackend> members = request.route().backends();
        List<Candidate> own = new ArrayList<>(routable.size());
        List<Candidate> others = new ArrayList<>(1);
        for (Candidate candidate : routable) {
            (members.contains(candidate.backend()) ? own : others).add(candidate);
        }
        RoutingConfig.Policy policy = configured.orElse(members.size() > 1 ? RoutingConfig.Policy.CACHE_AWARE
                : RoutingConfig.Policy.ORDERED);
        return switch (policy) {
            case ORDERED -> ordered(request, own, others);
            case LEAST_LOADED -> leastLoaded(request, own, others);
            case CACHE_AWARE -> cacheAware(request, own, others);
        };
    }

    private Placement ordered(ProxyRequest request, List<Candidate> own, List<Candidate> others) {
        return build(request, RoutingConfig.Policy.ORDERED, own, Placement.Reason.ORDERED, Placement.Reason.ORDERED,
                others, null, null);
    }

    private Placement leastLoaded(ProxyRequest request, List<Candidate> own, List<Candidate> others) {
        return build(request, RoutingConfig.Policy.LEAST_LOADED, byHealthThenLoad(own), Placement.Reason.LEAST_LOADED,
                Placement.Reason.LEAST_LOADED, others, null, null);
    }

    private Placement cacheAware(ProxyRequest request, List<Candidate> own, List<Candidate> others) {
        PromptBlocks prompt = PromptBlocks.of(request.body(), request.endpoint() == Endpoint.CHAT_COMPLETIONS);
        if (own.isEmpty()) {
            return build(request, RoutingConfig.Policy.CACHE_AWARE, own, Placement.Reason.LEAST_LOADED,
                    Placement.Reason.LEAST_LOADED, others, prompt, new int[0]);
        }
        List<LiveBackend> backends = own.stream().map(Candidate::backend).toList();
        int[] matched = index.match(prompt, backends);
        // Health and load are read once: other requests change them while this one is placed.
        int[] health = new int[own.size()];
        double[] load = new double[own.size()];
        int bestHealth = Integer.MAX_VALUE;
        for (int i = 0; i < own.size(); i++) {
            health[i] = backends.get(i).preference();
            load[i] = backends.get(i).load().score();
            bestHealth = Math.min(bestHealth, health[i]);
        }
        double least = Double.MAX_VALUE;
        for (int i = 0; i < own.size(); i++) {
            if (health[i] == bestHealth) {
                least = Math.min(least, load[i]);
            }
        }
        double bound = least + Math.max(affinity.maxImbalance(), affinity.maxImbalanceRatio() * least);
        boolean[] eligible = new boolean[own.size()];
        for (int i = 0; i < own.size(); i++) {
            eligible[i] = health[i] == bestHealth && load[i] <= bound;
        }
        double[] expected = new double[own.size()];
        for (int i = 0; i < own.size(); i++) {
            expected[i] = backends.get(i).load().expectedTtftNanos(prompt.uncachedTokens(matched[i]));
        }
        String sessionBackend = sessions.backendOf(request.sessionId());
        int chosen = -1;
        for (int i = 0; i < own.size(); i++) {
            if (eligible[i] && (chosen < 0
                    || better(i, chosen, expected, matched, load, backends, sessionBackend))) {
                chosen = i;
            }
        }
        Placement.Reason why = reasonFor(chosen, matched, eligible, backends, sessionBackend);
        List<Candidate> rest = new ArrayList<>(own);
        Candidate first = rest.remove(chosen);
        List<Candidate> ranked = new ArrayList<>(own.size());
        ranked.add(first);
        ranked.addAll(byHealthThenLoad(rest));
        int[] rankedMatched = new int[ranked.size()];
        for (int i = 0; i < ranked.size(); i++) {
            rankedMatched[i] = matched[own.indexOf(ranked.get(i))];
        }
        return build(request, RoutingConfig.Policy.CACHE_AWARE, ranked, why, Placement.Reason.LEAST_LOADED, others,
                prompt, rankedMatched);
    }

    /**
     * Whether candidate {@code i} is a better first choice than {@code j}: more prefix; else the session's; else a
     * clearly sooner first token (less prefill queued); else less load.
     */
    private static boolean better(int i, int j, double[] expected, int[] matched, double[] load,
                                  List<LiveBackend> backends, String sessionBackend) {
        if (matched[i] != matched[j]) {
            return matched[i] > matched[j];
        }
        boolean iSession = backends.get(i).name().equals(sessionBackend);
        boolean jSession = backends.get(j).name().equals(sessionBackend);
        if (iSession != jSession) {
            return iSession;
        }
        double margin = Math.max(EQUIVALENT_NANOS, 0.1 * Math.min(expected[i], expected[j]));
        if (Math.abs(expected[i] - expected[j]) > margin) {
            return expected[i] < expected[j];
        }
        return load[i] < load[j];
    }

    /**
     * Why the chosen one won: its prefix, if it holds the longest among the eligible and some other held less; else
     * the session, if it is the session's; else its load (requests, or prefill queued there).
     */
    private static Placement.Reason reasonFor(int chosen, int[] matched, boolean[] eligible, List<LiveBackend> backends,
                                              String sessionBackend) {
        boolean longest = true;
        boolean someLess = false;
        for (int i = 0; i < matched.length; i++) {
            if (eligible[i]) {
                longest &= matched[i] <= matched[chosen];
                someLess |= matched[i] < matched[chosen];
            }
        }
        if (longest && someLess) {
            return Placement.Reason.PREFIX;
        }
        return backends.get(chosen).name().equals(sessionBackend) ? Placement.Reason.SESSION
                : Placement.Reason.LEAST_LOADED;
    }

    /**
     * The placement of {@code own} (ranked) then {@code others}: the first of {@code own} is there for
     * {@code firstReason}, the rest of them for {@code restReason}, the others as fallback.
     */
    private Placement build(ProxyRequest request, RoutingConfig.Policy policy, List<Candidate> own,
                            Placement.Reason firstReason, Placement.Reason restReason, List<Candidate> others,
                            PromptBlocks prompt, int[] matched) {
        List<Candidate> all = new ArrayList<>(own.size() + others.size());
        all.addAll(own);
        all.addAll(others);
        Placement.Reason[] reasons = new Placement.Reason[all.size()];
        Arrays.fill(reasons, 0, own.size(), restReason);
        if (!own.isEmpty()) {
            reasons[0] = firstReason;
        }
        Arrays.fill(reasons, own.size(), all.size(), Placement.Reason.FALLBACK);
        int[] allMatched = Arrays.copyOf(matched == null ? new int[0] : matched, all.size());
        return new Placement(this, policy, request, List.copyOf(all), reasons, allMatched, prompt);
    }

    /** The exchange sent the prompt to {@code backend}. */
    void sent(Placement placement, LiveBackend backend) {
        if (!placement.request().route().backends().contains(backend)) {
            return;
        }
        if (placement.prompt() != null) {
            index.record(placement.prompt(), backend);
        }
        sessions.sent(placement.request().sessionId(), backend.name());
    }

    /**
     * Healthiest first, then least loaded; stable, so configuration order decides among equals. Loads change while
     * other requests come and go, so each is read once before sorting (a comparator reading live values could
     * contradict itself mid-sort).
     */
    private static List<Candidate> byHealthThenLoad(List<Candidate> candidates) {
        List<Ranked> ranked = new ArrayList<>(candidates.size());
        for (Candidate candidate : candidates) {
            ranked.add(new Ranked(candidate, candidate.backend().preference(), candidate.backend().load().score()));
        }
        ranked.sort(Comparator.comparingInt(Ranked::health).thenComparingDouble(Ranked::load));
        return ranked.stream().map(Ranked::candidate).toList();
    }

    private record Ranked(Candidate candidate, int health, double load) {
    }
}

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
 *       loaded one (load at most {@code least + max(max-imbalance, max-imbalance-ratio x least)}), the one holding the
 *       longest prefix of the prompt; among equals the session's last backend, then the one with the least prefill
 *       queued before it (at the backend's learned cost per token: {@link
 *       org.canonic.gateway.fleet.BackendLoad#queuedPrefillNanos}, equal within {@link #EQUIVALENT_NANOS} or 10 %),
 *       then the lighter load. A cold prompt (held nowhere) therefore goes where the least prefill waits. A new
 *       session (a session id not seen before) is placed by load first: its prompt shares only the system prompt
 *       with the others, and following that shared prefix would pile every session onto the replicas that happened to
 *       compute it first, while a replica that holds none would never get one. The rest follow by load.</li>
 * </ul>
 * The bound is SGLang's imbalance gate applied per candidate rather than consistent hashing with bounded loads: a
 * hash ring places a key by its hash, but here the key (the prompt's prefix) is found in an index, and the ring's
 * stable successor would be a replica with no more of the prompt than any other. The gate keeps the choice where the
 * cache is unless that replica is clearly busier, and then picks among the others by what they hold and their load.
 * The global fallback is always last, whatever the policy.
 */
public final class RoutePlacement {

    /** Queued prefill this close is equivalent: the models behind it are not finer than that. */
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
        double[] queued = new double[own.size()];
        for (int i = 0; i < own.size(); i++) {
            queued[i] = backends.get(i).load().queuedPrefillNanos();
        }
        String sessionBackend = sessions.backendOf(request.sessionId());
        // A session's first request places the session: by load, or every new session would follow the shared
        // system prompt to the replicas that already hold it, and a replica that holds none would never get one.
        boolean sessionStarts = request.sessionId() != null && sessionBackend == null;
        int chosen = -1;
        for (int i = 0; i < own.size(); i++) {
            if (eligible[i] && (chosen < 0 || (sessionStarts ? lighter(i, chosen, load, matched, queued)
                    : better(i, chosen, queued, matched, load, backends, sessionBackend)))) {
                chosen = i;
            }
        }
        Placement.Reason why = sessionStarts ? Placement.Reason.LEAST_LOADED
                : reasonFor(chosen, matched, eligible, backends, sessionBackend);
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

    /** For a new session: less load; else more prefix; else clearly less prefill queued. */
    private static boolean lighter(int i, int j, double[] load, int[] matched, double[] queued) {
        if (load[i] != load[j]) {
            return load[i] < load[j];
        }
        if (matched[i] != matched[j]) {
            return matched[i] > matched[j];
        }
        return clearlyLess(queued[i], queued[j]);
    }

    /** Whether {@code a} is less than {@code b} by more than the models behind them can tell apart. */
    private static boolean clearlyLess(double a, double b) {
        return a < b - Math.max(EQUIVALENT_NANOS, 0.1 * Math.min(a, b));
    }

    /**
     * Whether candidate {@code i} is a better first choice than {@code j}: more prefix; else the session's; else
     * clearly less prefill queued; else less load.
     */
    private static boolean better(int i, int j, double[] queued, int[] matched, double[] load,
                                  List<LiveBackend> backends, String sessionBackend) {
        if (matched[i] != matched[j]) {
            return matched[i] > matched[j];
        }
        boolean iSession = backends.get(i).name().equals(sessionBackend);
        boolean jSession = backends.get(j).name().equals(sessionBackend);
        if (iSession != jSession) {
            return iSession;
        }
        if (clearlyLess(queued[i], queued[j]) || clearlyLess(queued[j], queued[i])) {
            return queued[i] < queued[j];
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

package org.canonic.gateway.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * How requests are placed on a route's backends: the policy per route, prefix-cache affinity and its load bound,
 * the live load signals scraped from vLLM, hedging of slow first tokens, and the first-token clock that grows with
 * the prompt. Groups of {@link GatewayConfig}.
 */
public interface RoutingConfig {

    /** How a route ranks its backends for one request. */
    enum Policy {
        /** Configuration order after health (the gateway's behaviour before routing policies existed). */
        ORDERED,
        /** The backend with the least load (requests in flight and queued, here and inside vLLM) first. */
        LEAST_LOADED,
        /** The backend that holds the longest part of the prompt in its prefix cache, unless its load is too high. */
        CACHE_AWARE
    }

    /** Settings for every route (each route may choose its policy and turn hedging off). */
    interface Routing {
        /** Prefix-cache affinity of {@code cache-aware} routes. */
        Affinity affinity();

        /** Live load signals read from each vLLM backend's {@code /metrics}. */
        LoadSignals loadSignals();

        /** Defaults for hedging slow first tokens; each route may turn it off. */
        Hedging hedging();

        /** The first-token clock that grows with the prompt a backend must prefill. */
        FirstTokenDeadline firstTokenDeadline();

        /**
         * The prefill rate assumed for a backend (tokens per second) until its own first tokens tell: it sizes the
         * first-token clock and the hedging threshold of its first requests. 4000 is a consumer GPU's rate for a 7B
         * model; an A100 does about three times that, so the assumption errs on the patient side.
         */
        @WithDefault("4000")
        double assumedPrefillRate();
    }

    interface Affinity {
        /**
         * The client header whose value names a session (Kilo Code sends {@code x-session-id} with every request of a
         * task): a request whose prefix is known nowhere goes where its session's last request went, load permitting.
         */
        @WithDefault("x-session-id")
        String sessionHeader();

        /**
         * The load bound, absolute part: the backend holding the longest prefix is preferred unless its load exceeds
         * the least-loaded candidate's by more than this many requests and by more than {@link #maxImbalanceRatio()}
         * of it (SGLang's imbalance gate, per candidate). Generous on purpose: vLLM batches, so a few more sequences
         * in a replica's batch barely delay a first token, while moving a session costs a cold prefill of its whole
         * history there (a second or two for a 20k-token agentic prompt) and delays everything else on that replica
         * meanwhile. In the routing benchmark a bound of 4 requests moved 12 % of the turns and doubled TTFT p99.
         */
        @WithDefault("16")
        int maxImbalance();

        /** The load bound, relative part (see {@link #maxImbalance()}): 1.0 allows twice the least's load. */
        @WithDefault("1.0")
        double maxImbalanceRatio();

        /**
         * The memory one route's prefix index may use, counted in the bytes of its tables (two generations of
         * hashes, each entry 20 bytes, half full at most): 32 MiB remember about 800,000 blocks of 64 characters,
         * some 13 million prompt tokens, far more than a few vLLM replicas keep in their KV caches.
         */
        @WithDefault("32M")
        MemorySize indexSize();

        /**
         * A block the index has not seen used for this long is taken as evicted from the backend's cache (vLLM's
         * prefix cache is LRU under memory pressure; an idle hour's prefixes are rarely still there).
         */
        @WithDefault("10m")
        @WithConverter(MillisDurationConverter.class)
        Duration ttl();
    }

    interface LoadSignals {
        /** How often each backend's {@code /metrics} is read. */
        @WithDefault("1s")
        @WithConverter(MillisDurationConverter.class)
        Duration interval();

        /** A read that takes longer gives no signals (the gateway's own counts decide meanwhile). */
        @WithDefault("500ms")
        @WithConverter(MillisDurationConverter.class)
        Duration timeout();

        /** Signals older than this many intervals are ignored (a backend whose page stopped answering). */
        @WithDefault("3")
        int staleAfterIntervals();
    }

    interface Hedging {
        /**
         * At most this share of a route's requests in the last minute may be hedged: a hedge duplicates a prefill on
         * a replica whose cache is usually cold, so it is rationed.
         */
        @WithDefault("0.1")
        double maxShare();

        /**
         * A first token is late when it has not come by the time this share of the backend's recent first tokens had
         * come, each measured against the TTFT its model predicted for its prompt: late for this backend and this
         * prompt, beyond the tail it really has (a prompt behind another's long prefill waits for it; that is slow,
         * not stuck). 0.95 hedges about 5 % of healthy streams at most, which leaves half the budget to stuck ones (a
         * needless hedge is not free: it repeats a cold prefill that slows the replica it lands on). In the routing
         * benchmark 0.98 waited ~2 s before hedging a stalled stream, and its TTFT p99 stayed where no hedging left it.
         */
        @WithDefault("0.95")
        double latePercentile();

        /** ...and never earlier than this. */
        @WithDefault("500ms")
        @WithConverter(MillisDurationConverter.class)
        Duration minDelay();
    }

    interface FirstTokenDeadline {
        /**
         * On or off. On, an attempt's first-token clock is {@link #base()} plus {@link #slack()} times the prefill the
         * backend's learned rate predicts for the prompt's uncached tokens, never more than the backend's configured
         * first-token clock: a short prompt fails over quickly, a 30k-token cold prompt gets the time it needs.
         * RunPod serverless backends always keep their configured clock (cold starts, not prefill, decide there).
         */
        @WithDefault("true")
        boolean enabled();

        /** The part of the clock that does not depend on the prompt: queueing, scheduling, a slow step. */
        @WithDefault("15s")
        @WithConverter(MillisDurationConverter.class)
        Duration base();

        /** How many times the predicted prefill the clock allows on top of the base. */
        @WithDefault("4")
        double slack();
    }

    interface RouteHedging {
        /** Off turns hedging off for this route. */
        @WithDefault("true")
        boolean enabled();

        /** Overrides {@code gateway.routing.hedging.max-share} for this route. */
        OptionalDouble maxShare();
    }
}

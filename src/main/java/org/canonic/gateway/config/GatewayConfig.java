package org.canonic.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The gateway's whole configuration, under the {@code gateway.} prefix.
 *
 * <p>Deployments that only know the legacy variables ({@code RUNPOD_*}, {@code VASTAI_*},
 * {@code FALLBACK_PROVIDER}, ...) get them translated into this tree by {@link LegacyEnvironmentConfigSource};
 * anything set here explicitly wins over that translation.
 */
@ConfigMapping(prefix = "gateway")
public interface GatewayConfig {

    /**
     * How long a stream may stay silent towards the client before the gateway writes an SSE comment
     * ({@code : keep-alive}). Cloudflare cuts a response silent for ~100 s, so this must stay well below that.
     * Before the first upstream token, the first keep-alive also commits the 200 status line early.
     */
    @WithDefault("15s")
    @WithConverter(MillisDurationConverter.class)
    Duration keepAliveInterval();

    /**
     * How long a stream's client may read nothing (its connection's write queue stays full) before it loses its
     * backend slot, its upstream request and its connection. Until then the upstream is paused, not buffered.
     */
    @WithDefault("60s")
    @WithConverter(MillisDurationConverter.class)
    Duration clientStallTimeout();

    /** Backend tried last for every route, after the route's own backends ({@code FALLBACK_PROVIDER}). */
    Optional<String> fallback();

    /** Defaults for every backend; each backend may override any of them. */
    Defaults defaults();

    /** Routes by name: which client-facing model names they answer and which backends serve them. */
    Map<String, RouteConfig> routes();

    /** Upstream OpenAI-compatible backends by name. A backend without a base URL is absent. */
    Map<String, BackendConfig> backends();

    /** The embedded simulated vLLM backend used by the default (dev) run profile. */
    SimulatorConfig simulator();

    /** Request handling limits applied before anything is forwarded. */
    GuardConfig.Limits limits();

    /** Client authentication. */
    GuardConfig.Auth auth();

    /** Token ceilings ({@code TOKENS_MIN}, {@code TOKENS_MAX}, {@code MAX_TOKENS}). */
    GuardConfig.Tokens tokens();

    /**
     * Limits per client key (by key id): the defaults apply to every key, {@code gateway.key-limits.keys.<id>.*}
     * override them for one. 0 means unlimited.
     */
    GuardConfig.KeyLimits keyLimits();

    /** Context-window fit: how prompts are measured against each backend's window. */
    GuardConfig.ContextFit contextFit();

    /** Browser front ends allowed to call the API from another origin ({@code GATEWAY_CORS_ORIGINS}). */
    GuardConfig.Cors cors();

    /** Active health probes of every backend. */
    OperationsConfig.Health health();

    /** What the gateway reports about each request. */
    OperationsConfig.Telemetry telemetry();

    /** The per-backend circuit breaker fed by real traffic. */
    OperationsConfig.Breaker breaker();

    /**
     * How long the requests in flight on a draining backend may run on (streams included) before they are ended with
     * an error event and {@code [DONE]}; admin calls may give their own deadline.
     */
    @WithDefault("30s")
    @WithConverter(MillisDurationConverter.class)
    Duration drainDeadline();

    /**
     * Bearer token protecting the read-only admin view of backends ({@code GATEWAY_ADMIN_TOKEN}). Unset means the
     * view is disabled.
     */
    Optional<String> adminToken();

    /**
     * Client headers forwarded upstream, besides {@code User-Agent}: an allow-list, so that nothing a client sends
     * reaches a backend unless it is named here. Everything else (credentials, cookies, {@code Forwarded},
     * {@code X-Forwarded-*}, {@code Via}, hop-by-hop and encoding headers, arbitrary {@code x-} headers) stays at the
     * gateway; content type, accept, encoding, request id and the backend's key are the gateway's to set and cannot be
     * listed. The defaults are what Kilo Code and OpenRouter-style clients send for sessions, attribution and tracing.
     * {@code none} forwards only {@code User-Agent}.
     */
    @WithDefault("x-session-id,x-session-affinity,x-title,http-referer,traceparent,tracestate")
    List<String> forwardHeaders();

    /** How long connections may take and how many one client address may hold. */
    GuardConfig.Connections connections();

    /** How requests are placed on a route's backends: prefix-cache affinity, load signals, hedging. */
    RoutingConfig.Routing routing();

    interface Defaults {
        /** Attempts per backend before moving to the next candidate (the first try included). */
        @WithDefault("2")
        int tries();

        /** Pause between two tries on the same backend. */
        @WithDefault("500ms")
        @WithConverter(MillisDurationConverter.class)
        Duration retryDelay();

        /** The four clocks every attempt runs under. */
        Clocks clocks();

        /**
         * An explicit, fixed limit of requests in flight per backend (a stream counts until its last byte). Unset (the
         * default), each backend's limit adapts to it ({@link #adaptiveConcurrency()}); set, it wins and does not adapt.
         * A backend's own {@code max-concurrency} overrides both.
         */
        OptionalInt maxConcurrency();

        /**
         * How long a request may wait, in all, for a slot on full backends: it waits in its preferred candidate's FIFO
         * queue, then takes a later candidate only if one has a slot within what is left; when none has, it gets 429
         * with {@code Retry-After}. vLLM queues beyond its batch (256 sequences by default) without bound; this is the
         * place where a burst queues instead, still able to spill or be refused cleanly. 10 s lets a burst of a few
         * hundred streams be admitted while the adaptive limit grows towards what the backend takes, and stays well
         * under the first-token clock, the keep-alive interval and the tunnel's 100 s.
         */
        @WithDefault("10s")
        @WithConverter(MillisDurationConverter.class)
        Duration concurrencyWait();

        /** The adaptive per-backend limit, used where no {@code max-concurrency} is set. */
        AdaptiveConcurrency adaptiveConcurrency();
    }

    /**
     * The adaptive in-flight limit of a backend: it grows while the backend's time to first token stays near its usual
     * value and the limit is used, and shrinks when it rises (requests queue inside vLLM) or the backend signals
     * overload (clocks expiring, 429, 503). See {@code fleet.AdaptiveLimit}.
     */
    interface AdaptiveConcurrency {
        /**
         * The limit a backend starts with, before anything was learned: a few dozen, well inside any vLLM batch, so a
         * fresh backend is not flooded before its first tokens tell how it copes (it can double per round of them).
         */
        @WithDefault("32")
        int initialLimit();

        /** The limit never shrinks below this: a slow backend still serves a few requests at once. */
        @WithDefault("4")
        int minLimit();

        /**
         * The ceiling. Far above vLLM's default batch of 256 sequences, so the backend's own latency decides, not
         * this number; it bounds what one backend can hold if its latency never rises.
         */
        @WithDefault("1024")
        int maxLimit();
    }

    /**
     * The four clocks of one attempt. Each expiry is a distinct, named outcome.
     */
    interface Clocks {
        /** From the attempt's start until the TCP (and TLS) connection to the backend is ready. */
        @WithDefault("5s")
        @WithConverter(MillisDurationConverter.class)
        Duration connect();

        /**
         * From the request being sent until the first {@code data:} event (stream) or the response head
         * (non-stream: vLLM answers only once generation is done, so this is the per-try timeout the legacy
         * {@code *_TIMEOUT_MS} variables meant). Covers queueing, cold starts and prefill.
         */
        @WithDefault("120s")
        @WithConverter(MillisDurationConverter.class)
        Duration firstToken();

        /** Longest silence allowed between two upstream events once the first one arrived. */
        @WithDefault("60s")
        @WithConverter(MillisDurationConverter.class)
        Duration idle();

        /** Upper bound for the whole attempt, from start to the last byte. */
        @WithDefault("15m")
        @WithConverter(MillisDurationConverter.class)
        Duration total();
        /**
         * Upper bound for a whole non-stream request, across all its tries and candidates. A non-stream answer sends
         * nothing until generation is done, and Cloudflare's tunnel ends a request whose origin says nothing for
         * about 100 s with a 524; this bound answers first, with a 504 that says to stream. Zero turns it off.
         */
        @WithDefault("90s")
        @WithConverter(MillisDurationConverter.class)
        Duration nonStreamTotal();
    }

    interface RouteConfig {
        /**
         * Client-facing aliases for this route (for example {@code qwen}). The backends' own model ids are
         * always accepted as well.
         */
        Optional<List<String>> models();

        /**
         * Backends in order of preference. May be empty: the route is listed and answers 503 until a backend is
         * registered for it through the admin API.
         */
        Optional<List<String>> backends();

        /**
         * How a request picks among the route's backends: {@code ordered} (the order above, after health),
         * {@code least-loaded} or {@code cache-aware} (the backend holding the longest part of the prompt in its
         * prefix cache, within a load bound). Unset: {@code cache-aware} while the route has more than one backend.
         */
        Optional<RoutingConfig.Policy> policy();

        /** Hedging of this route's streams (a second attempt when the first token is late). */
        RoutingConfig.RouteHedging hedging();
    }

    interface BackendConfig {
        /**
         * The backend's OpenAI base URL as SDKs take it ({@code http://10.0.0.5:8000/v1},
         * {@code https://api.runpod.ai/v2/<id>/openai/v1}); {@code /v1} is added when missing. The value
         * {@code simulator:} points at the embedded simulator. Unset means the backend is absent.
         */
        Optional<String> baseUrl();

        /** Bearer key sent upstream. Comes from the environment or a secret file, never from committed config. */
        Optional<String> apiKey();

        /**
         * A mounted secret file holding the bearer key instead ({@code RUNPOD_API_KEY_FILE}, {@code VASTAI_API_KEY_FILE}):
         * its content, trimmed, is the key. Setting it together with {@code api-key}, or naming a file that cannot be
         * read, stops start-up.
         */
        Optional<String> apiKeyFile();

        /** The model id the backend serves; substituted for whatever name the client used. */
        Optional<String> model();

        /** Overrides {@code gateway.defaults.tries}. */
        OptionalInt tries();

        /** Overrides {@code gateway.defaults.retry-delay}. */
        @WithConverter(MillisDurationConverter.class)
        Optional<Duration> retryDelay();

        /** Per-backend overrides of the four clocks. */
        ClockOverrides clocks();

        /** Overrides {@code gateway.defaults.max-concurrency}. */
        OptionalInt maxConcurrency();

        /**
         * How the backend's health is probed: {@code vllm} ({@code /health} and {@code /v1/models}),
         * {@code models} ({@code /v1/models} only, for OpenAI-compatible APIs without {@code /health}),
         * {@code runpod-serverless} ({@code /v2/<endpoint>/health}), {@code none} (passive signals only), or
         * {@code auto}: RunPod serverless for {@code api.runpod.ai/v2/...} URLs, vLLM otherwise.
         */
        @WithDefault("auto")
        String probe();

        /**
         * The backend's context window in tokens, used until (or instead of) the {@code max_model_len} its probes
         * learn from {@code /v1/models}. Unset and not learned means the window is unknown and not checked.
         */
        OptionalInt contextWindow();

        /** The largest completion limit this backend accepts ({@code VASTAI_TOKENS_MAX}); lower limits win. */
        OptionalInt tokensMax();

        /**
         * Read the backend's {@code /metrics} for its own queue and cache use ({@code gateway.routing.load-signals}).
         * Unset: on for backends probed as vLLM, off otherwise (RunPod serverless and OpenAI-compatible APIs have no
         * vLLM metrics page).
         */
        Optional<Boolean> loadSignals();
    }

    /** Per-backend clock overrides; unset values fall back to {@code gateway.defaults.clocks}. */
    interface ClockOverrides {
        @WithConverter(MillisDurationConverter.class)
        Optional<Duration> connect();

        @WithConverter(MillisDurationConverter.class)
        Optional<Duration> firstToken();

        @WithConverter(MillisDurationConverter.class)
        Optional<Duration> idle();

        @WithConverter(MillisDurationConverter.class)
        Optional<Duration> total();
    }

    // ---- Coordination: admin access, state directory, maintenance lock, webhooks --------------------------------

    /**
     * A mounted secret file holding the admin bearer token ({@code GATEWAY_ADMIN_TOKEN_FILE}); its content is trimmed.
     * Set this or {@link #adminToken()}, not both.
     */
    Optional<String> adminTokenFile();

    /** The usage API's aggregate and cost settings. */
    OperationsConfig.UsageConfig usage();

    /** How failed admin authentication is slowed down. */
    OperationsConfig.AdminAuthConfig adminAuth();

    /** Bounds on admin requests: body size, the addresses a registered backend may have. */
    OperationsConfig.AdminConfig admin();

    /** Where key references given through the admin API may point. */
    OperationsConfig.SecretsConfig secrets();

    /**
     * Where the gateway keeps state that must survive a restart: registered backends, the lock and its fencing
     * counter, the audit log.
     */
    OperationsConfig.StateConfig state();

    /** The maintenance lock that serialises admin mutations. */
    OperationsConfig.LockConfig lock();

    /** Signed event notifications to operators' receivers. */
    OperationsConfig.WebhooksConfig webhooks();

    // ---- Compute: renting vLLM machines from Vast.ai and RunPod ---------------------------------------------------

    /** Governed compute: providers, recipes, cost tiers, readiness and leak watch. */
    ComputeConfig compute();
}

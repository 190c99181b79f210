package org.canonic.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

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
    Limits limits();

    /** Client authentication. */
    Auth auth();

    /** Token ceilings ({@code TOKENS_MIN}, {@code TOKENS_MAX}, {@code MAX_TOKENS}). */
    Tokens tokens();

    /**
     * Limits per client key (by key id): the defaults apply to every key, {@code gateway.key-limits.keys.<id>.*}
     * override them for one. 0 means unlimited.
     */
    KeyLimits keyLimits();

    /** Context-window fit: how prompts are measured against each backend's window. */
    ContextFit contextFit();

    /** Browser front ends allowed to call the API from another origin ({@code GATEWAY_CORS_ORIGINS}). */
    Cors cors();

    /** Active health probes of every backend. */
    Health health();

    /** What the gateway reports about each request. */
    Telemetry telemetry();

    /** The per-backend circuit breaker fed by real traffic. */
    Breaker breaker();

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
    Connections connections();

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

    interface SimulatorConfig {
        /** Start the embedded simulated vLLM server. Never enable it in production. */
        @WithDefault("false")
        boolean enabled();

        /** Model ids the simulator serves, each reported with {@link #maxModelLen()}. */
        @WithDefault("Qwen/Qwen2.5-7B-Instruct,deepseek-ai/deepseek-coder-6.7b-instruct")
        List<String> models();

        /** Context window the simulator reports on {@code /v1/models} and enforces. */
        @WithDefault("16384")
        int maxModelLen();

        /** Pause between two streamed tokens, to make streaming visible. */
        @WithDefault("20ms")
        @WithConverter(MillisDurationConverter.class)
        Duration tokenInterval();

        /** Loopback port to listen on; 0 picks a free one. */
        @WithDefault("0")
        int port();
    }

    interface Auth {
        /**
         * {@code keys}: every request needs a client key ({@code GATEWAY_API_KEYS} or {@code GATEWAY_API_KEYS_FILE});
         * start-up fails without any. {@code none}: no authentication, chosen explicitly ({@code GATEWAY_AUTH=none}).
         */
        @WithDefault("keys")
        String mode();

        /**
         * Client keys as comma-separated {@code id:key} entries; {@code id:key:chat+kilocode} limits a key to routes.
         * From the environment only.
         */
        Optional<String> keys();

        /**
         * A mounted secret file with one entry per line: {@code id:key[:routes]} or {@code id:sha256:<hex>[:routes]}
         * (the SHA-256 of the key, so the file need not hold keys at all). {@code #} starts a comment.
         */
        Optional<String> keysFile();
    }

    interface KeyLimits {
        /**
         * Requests of one key in flight at once (streams count until their last byte). A key's request is released when
         * its record closes, just after its last byte went out, so a client running exactly this many connections can
         * race its own release and be refused: the default is therefore well above the 256 streams of a full vLLM
         * batch (the adaptive backend limit's ceiling, 1024). Fair sharing of a backend between keys is the backend
         * slots' job, not this cap's.
         */
        @WithDefault("1024")
        int concurrent();

        /** Requests one key may start per minute. */
        @WithDefault("0")
        int requestsPerMinute();

        /**
         * Tokens one key may spend per minute: a request reserves its prompt and {@code n} x its completion limit when
         * it is admitted, and is settled with what it really used when it ends.
         */
        @WithDefault("0")
        long tokensPerMinute();

        /** Per-key overrides, by key id. */
        Map<String, KeyLimit> keys();
    }

    interface KeyLimit {
        OptionalInt concurrent();

        OptionalInt requestsPerMinute();

        java.util.OptionalLong tokensPerMinute();
    }

    interface Tokens {
        /** Completion limits below this are raised to it. */
        @WithDefault("1")
        int min();

        /** The ceiling: larger completion limits are clamped to it (or refused, see {@link #overCeiling()}). */
        @WithDefault("32768")
        int max();

        /** The limit given to requests that set none ({@code MAX_TOKENS}). */
        @WithName("default")
        @WithDefault("4096")
        int defaultLimit();

        /** {@code clamp} a limit over the ceiling down to it, or {@code refuse} the request with a 400. */
        @WithDefault("clamp")
        String overCeiling();
    }

    interface ContextFit {
        /**
         * Tokens kept free in every window on top of the prompt and the completion limit: chat templates add a few
         * tokens per message that a byte-based estimate cannot see.
         */
        @WithDefault("64")
        int safetyMargin();

        /** The smallest completion worth routing to a backend: a window that leaves less is treated as too small. */
        @WithDefault("16")
        int minCompletionTokens();

        /** How long an exact count from a backend's {@code /tokenize} may take before the estimate is used instead. */
        @WithDefault("2s")
        @WithConverter(MillisDurationConverter.class)
        Duration tokenizeTimeout();
    }

    interface Telemetry {
        /**
         * Add {@code "gateway":{"provider_used","elapsed_ms","attempts"}} to non-stream JSON answers, as the edge
         * worker this gateway replaces did. Streams carry the same in {@code x-gateway-*} headers.
         */
        @WithDefault("true")
        boolean responseInfo();

        /** The per-request ledger. */
        LedgerConfig ledger();
    }

    interface LedgerConfig {
        /** The JSON Lines file ({@code GATEWAY_LEDGER_PATH}); unset writes the structured log line only. */
        Optional<String> path();

        /** Records that may wait for the writer; beyond that they are dropped (and counted), never waited for. */
        @WithDefault("10000")
        int queueSize();

        /** The file is rotated when it would grow beyond this (and when the UTC day changes). */
        @WithDefault("100M")
        io.quarkus.runtime.configuration.MemorySize rotateSize();

        /** Opt-in: also record prompt messages and non-stream completions. Off: only ids, numbers and outcomes. */
        @WithDefault("false")
        boolean includeContent();
    }

    interface Health {
        /** Time between two probes of one backend (each one jittered by up to 10% so probes do not align). */
        @WithDefault("10s")
        @WithConverter(MillisDurationConverter.class)
        Duration interval();

        /** A probe that takes longer has failed. */
        @WithDefault("3s")
        @WithConverter(MillisDurationConverter.class)
        Duration timeout();

        /** Consecutive failed probes that take a backend DOWN (fewer make it DEGRADED). */
        @WithDefault("3")
        int failuresToDown();

        /** Consecutive good probes a DOWN backend needs before it takes traffic again. */
        @WithDefault("2")
        int successesToUp();
    }

    interface Breaker {
        /** Size of the rolling window of attempts the failure ratio is computed over. */
        @WithDefault("10")
        int requestVolumeThreshold();

        /** Share of backend faults in the window that opens the breaker. */
        @WithDefault("0.5")
        double failureRatio();

        /** How long an open breaker keeps the backend out before one trial request is let through. */
        @WithDefault("30s")
        @WithConverter(MillisDurationConverter.class)
        Duration delay();

        /** Successful trials needed to close a half-open breaker. */
        @WithDefault("1")
        int successThreshold();
    }

    interface Limits {
        /** Largest request body accepted. Coding agents send 50-500 KB prompts; this leaves room for four times that. */
        @WithName("max-body-size")
        @WithDefault("2M")
        io.quarkus.runtime.configuration.MemorySize maxBodySize();

        /** Largest upstream non-stream body (or error body) the gateway will buffer. */
        @WithDefault("16M")
        io.quarkus.runtime.configuration.MemorySize maxUpstreamBodySize();

        /**
         * The most bytes held for bodies at once, all requests together: client request bodies, non-stream upstream
         * answers being collected, and answers waiting to be written to slow clients. A share of the heap
         * ({@code 25%}) or a size ({@code 128M}). A request body that does not fit is refused with 503 and
         * {@code Retry-After}; an upstream answer that does not fit fails its attempt (outcome {@code over_budget}).
         */
        @WithDefault("25%")
        String bodyBudget();

        /**
         * How long a request body may take to arrive in full, counted from its head. A body still incomplete then
         * is answered with 408 and its connection closed: a client cannot hold a connection (and its memory) by
         * sending slowly or not at all.
         */
        @WithDefault("30s")
        @WithConverter(MillisDurationConverter.class)
        Duration bodyReadTimeout();

        /**
         * Largest total size of the client headers forwarded upstream ({@link GatewayConfig#forwardHeaders()}),
         * counted as {@code name: value} lines. A header that would go past it is dropped, never sent, so a client
         * cannot make a backend refuse the gateway's requests with oversized headers.
         */
        @WithDefault("8K")
        io.quarkus.runtime.configuration.MemorySize maxForwardedHeadersSize();
    }

    interface Connections {
        /**
         * How long a client may take to send a complete request head: from the connection's opening for its first
         * request, from the first byte for later ones. Slower connections are closed (no answer: there is no request
         * to answer yet).
         */
        @WithDefault("10s")
        @WithConverter(MillisDurationConverter.class)
        Duration headerTimeout();

        /**
         * How long a keep-alive connection may sit idle between two requests before it is closed. A request in
         * flight is never cut by it: a stream or a long generation is governed by the backend clocks and keep-alive
         * comments instead.
         */
        @WithDefault("60s")
        @WithConverter(MillisDurationConverter.class)
        Duration idleTimeout();

        /**
         * Connections one client address may hold open (counted from its first request on each); beyond that a
         * request gets 429 and its connection is closed. Behind a tunnel or proxy every connection comes from the
         * proxy's address, so size it for the proxy. {@code 0} switches the cap off. 1024: one client (or the tunnel)
         * running a full vLLM batch of 256 streams plus its other connections must not reach it, and a closed
         * connection is counted out only once its close was processed, which can trail the client's next connect.
         */
        @WithDefault("1024")
        int maxPerAddress();
    }

    // ---- Coordination: admin access, state directory, maintenance lock, webhooks --------------------------------

    /**
     * A mounted secret file holding the admin bearer token ({@code GATEWAY_ADMIN_TOKEN_FILE}); its content is trimmed.
     * Set this or {@link #adminToken()}, not both.
     */
    Optional<String> adminTokenFile();

    /** How failed admin authentication is slowed down. */
    AdminAuthConfig adminAuth();

    /**
     * Where the gateway keeps state that must survive a restart: registered backends, the lock and its fencing
     * counter, the audit log.
     */
    StateConfig state();

    /** The maintenance lock that serialises admin mutations. */
    LockConfig lock();

    /** Signed event notifications to operators' receivers. */
    WebhooksConfig webhooks();

    interface AdminAuthConfig {
        /**
         * Failed admin attempts one client address may make per minute; beyond that its failures answer 429. A
         * request with the right token always passes, so a shared address (a tunnel) cannot lock the operator out.
         */
        @WithDefault("10")
        int maxFailuresPerMinute();
    }

    interface StateConfig {
        /**
         * The state directory ({@code GATEWAY_STATE_DIR}); relative paths are relative to the working directory.
         * Created if missing; start-up fails if it is not a writable directory.
         */
        @WithDefault("state")
        String dir();
    }

    interface LockConfig {
        /** Lease of a lock acquired without {@code ttl_seconds}. */
        @WithDefault("15m")
        @WithConverter(MillisDurationConverter.class)
        Duration defaultTtl();

        /** Longest lease a holder may ask for (or renew to): a forgotten lock must end by itself. */
        @WithDefault("24h")
        @WithConverter(MillisDurationConverter.class)
        Duration maxTtl();
    }

    interface WebhooksConfig {
        /** Receivers, comma-separated ({@code GATEWAY_WEBHOOK_URLS}); unset sends nothing. */
        Optional<List<String>> urls();

        /** HMAC key signing every delivery ({@code GATEWAY_WEBHOOK_SECRET}); from the environment only. */
        Optional<String> secret();

        /** A mounted secret file holding the key ({@code GATEWAY_WEBHOOK_SECRET_FILE}); its content is trimmed. */
        Optional<String> secretFile();

        /** Events waiting per receiver; beyond that new events are dropped (and counted), never waited for. */
        @WithDefault("1000")
        int queueSize();

        /** A delivery attempt that has not answered by then has failed. */
        @WithDefault("10s")
        @WithConverter(MillisDurationConverter.class)
        Duration timeout();

        /** Attempts per event and receiver, the first included; then the event is dropped for that receiver. */
        @WithDefault("5")
        int maxAttempts();

        /** Pause before the first retry; doubled for each further one, plus up to half of it again as jitter. */
        @WithDefault("1s")
        @WithConverter(MillisDurationConverter.class)
        Duration initialBackoff();

        /** Deliveries in progress per receiver (a retry waiting for its backoff counts). */
        @WithDefault("4")
        int concurrency();
    }

    interface Cors {
        /**
         * Exact origins ({@code https://chat.example.com}, comma-separated) whose browser pages may call the API.
         * Unset: no CORS headers at all, so browsers keep the same-origin rule.
         */
        Optional<List<String>> origins();
    }

    // ---- Compute: renting vLLM machines from Vast.ai and RunPod ---------------------------------------------------

    /** Governed compute: providers, recipes, cost tiers, readiness and leak watch. */
    ComputeConfig compute();
}

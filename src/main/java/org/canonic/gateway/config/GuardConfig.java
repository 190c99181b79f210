package org.canonic.gateway.config;

import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the gateway refuses and how much it admits: client keys, per-key limits, token ceilings, context fit,
 * request and connection limits, CORS. Groups of {@link GatewayConfig} (kept apart so that file stays about traffic:
 * routes, backends, clocks).
 */
public interface GuardConfig {

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

        /**
         * How often the key file's modification time, size and identity are compared with what was read (a change
         * re-reads it; so does {@code SIGHUP}), and the shared store's key version with the one held. Between 100ms
         * and 5m.
         */
        @WithDefault("2s")
        @WithConverter(MillisDurationConverter.class)
        Duration reloadInterval();
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

        /**
         * Dollars one key may cost per UTC day (0 = no budget), as the usage API computes its cost: its share of the
         * rented instances it used and its tokens on priced static backends. Checked at admission against what its
         * finished requests cost (recomputed every few seconds); over it, 429 {@code budget_exceeded} until midnight
         * UTC.
         */
        @WithDefault("0")
        double usdPerDay();

        /** Tokens (input + output) one key may use per UTC day (0 = no budget); same check as {@link #usdPerDay()}. */
        @WithDefault("0")
        long tokensPerDay();

        /** Per-key overrides, by key id. */
        Map<String, KeyLimit> keys();
    }

    interface KeyLimit {
        OptionalInt concurrent();

        OptionalInt requestsPerMinute();

        java.util.OptionalLong tokensPerMinute();

        java.util.OptionalDouble usdPerDay();

        java.util.OptionalLong tokensPerDay();
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
         * The share of the body budget, in percent, that the request bodies of one client key (or, with keys off,
         * one client address) may hold at once, never less than one body of {@code max-body-size}. Beyond it that
         * client's next body is refused with 429 {@code body_budget_share_exhausted}: one client's half-sent bodies
         * cannot take the budget from the others. 1 to 100.
         */
        @WithDefault("25")
        int bodyBudgetShare();

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
         * comments instead. Longer than the tunnel's keep-alive (cloudflared keeps idle origin connections 90 s): a
         * proxy must always be the one to close an idle connection, or it may send a request on one the gateway is
         * closing (DeployFilesTest checks the bundle).
         */
        @WithDefault("120s")
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

    interface Cors {
        /**
         * Exact origins ({@code https://chat.example.com}, comma-separated) whose browser pages may call the API.
         * Unset: no CORS headers at all, so browsers keep the same-origin rule.
         */
        Optional<List<String>> origins();
    }
}

package org.canonic.gateway.config;

import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the gateway watches and reports: backend health probes, circuit breaker, telemetry and ledger, admin
 * access, state directory, maintenance lock, webhooks. Groups of {@link GatewayConfig}.
 */
public interface OperationsConfig {

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

    interface Telemetry {
        /**
         * Add {@code "gateway":{"provider_used","elapsed_ms","attempts"}} to non-stream JSON answers, as the edge
         * worker this gateway replaces did. Streams carry the same in {@code x-gateway-*} headers.
         */
        @WithDefault("true")
        boolean responseInfo();

        /** The per-request ledger. */
        LedgerConfig ledger();

        /** OpenTelemetry traces of proxied requests. */
        TracingConfig tracing();
    }

    interface TracingConfig {
        /**
         * The OTLP/HTTP traces endpoint ({@code http://collector:4318/v1/traces}; {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}).
         * Unset: no traces, and nothing is done for them on the request path.
         */
        Optional<String> otlpEndpoint();

        /** The {@code service.name} of the gateway's spans. */
        @WithDefault("magic-gateway")
        String serviceName();
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

    /** The usage aggregate behind {@code /admin/usage} and {@code /v1/usage}, and how usage becomes cost. */
    interface UsageConfig {
        /** How long hourly buckets are kept, and how far back the ledger files are read at start. */
        @WithDefault("7d")
        @WithConverter(MillisDurationConverter.class)
        java.time.Duration retention();

        /** At most this much of the newest ledger files is read at start (a bound on start-up time). */
        @WithDefault("512M")
        io.quarkus.runtime.configuration.MemorySize rebuildMaxSize();

        /**
         * What one output token weighs against one input token when a rented instance's spend is shared among its
         * users and when a static backend's price is applied (a decode step per output token; prompts prefill in
         * parallel).
         */
        @WithDefault("4")
        double outputTokenWeight();

        /** By backend name: $ per million weighted tokens on a static backend (not rented by this gateway). */
        Map<String, Double> usdPerMillionTokens();
    }

    interface AdminAuthConfig {
        /**
         * Failed admin attempts one client address may make per minute; beyond that its failures answer 429. A
         * request with the right token always passes, so a shared address (a tunnel) cannot lock the operator out.
         */
        @WithDefault("10")
        int maxFailuresPerMinute();
    }

    interface AdminConfig {
        /**
         * Largest admin request body ({@code /admin/*}): admin calls carry small JSON documents. Read only after the
         * bearer token was checked, within {@code gateway.limits.body-read-timeout}; a larger one is answered 413.
         */
        @WithDefault("64K")
        io.quarkus.runtime.configuration.MemorySize maxBodySize();

        /**
         * Networks (CIDR, comma-separated, e.g. {@code 10.0.5.0/24,127.0.0.1/32}) in which a backend registered
         * through the admin API may have its address although it is private, loopback, link-local or otherwise not
         * public. Unset: only public addresses. Configured backends, rented machines and webhook receivers come from
         * the operator's own configuration and are not checked.
         */
        Optional<List<String>> allowedNetworks();
    }

    interface SecretsConfig {
        /**
         * The only directory from which a key reference given through the admin API ({@code api_key_file}) may be
         * read, with its subdirectories; symbolic links are followed and must stay inside it (Kubernetes secret
         * volumes are made of such links). Docker and Compose mount secrets there.
         */
        @WithDefault("/run/secrets")
        String dir();

        /**
         * The prefix every environment variable named by a key reference ({@code api_key_env}) must have. The
         * gateway's own settings ({@code GATEWAY_*}, {@code QUARKUS_*}) and provider account keys never qualify,
         * whatever the prefix.
         */
        @WithDefault("BACKEND_KEY_")
        String envPrefix();
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
}

package org.canonic.gateway.coordination;

import org.canonic.gateway.config.OperationsConfig;
import org.canonic.gateway.config.InvalidConfigurationException;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The webhook settings, checked once at start-up.
 *
 * @param urls           receivers (absolute http/https URLs)
 * @param secret         the signing key, or null for unsigned deliveries
 * @param queueSize      events waiting per receiver before new ones are dropped
 * @param timeout        per attempt (also the connect timeout)
 * @param maxAttempts    per event and receiver, the first included
 * @param initialBackoff pause before the first retry, doubled for each further one
 * @param concurrency    deliveries in progress per receiver
 */
public record WebhookSettings(List<URI> urls, byte[] secret, int queueSize, Duration timeout, int maxAttempts,
                              Duration initialBackoff, int concurrency) {

    /** Reads the configuration; every problem is reported at once, none of them containing a URL or the secret. */
    public static WebhookSettings from(OperationsConfig.WebhooksConfig config) {
        List<String> problems = new ArrayList<>();
        List<URI> urls = new ArrayList<>();
        List<String> entries = config.urls().orElse(List.of());
        for (int i = 0; i < entries.size(); i++) {
            String entry = entries.get(i).strip();
            if (entry.isEmpty()) {
                continue;
            }
            URI url = parse(entry);
            if (url == null) {
                // The entry itself is not repeated: a URL may carry a token in its path or query.
                problems.add("GATEWAY_WEBHOOK_URLS entry " + (i + 1) + " is not an absolute http(s) URL");
            } else {
                urls.add(url);
            }
        }
        byte[] secret = SecretSource.resolve(config.secret(), config.secretFile(), "GATEWAY_WEBHOOK_SECRET",
                "GATEWAY_WEBHOOK_SECRET_FILE", problems).map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(null);
        if (config.queueSize() < 1) {
            problems.add("gateway.webhooks.queue-size must be at least 1");
        }
        if (config.maxAttempts() < 1) {
            problems.add("gateway.webhooks.max-attempts must be at least 1");
        }
        if (config.concurrency() < 1) {
            problems.add("gateway.webhooks.concurrency must be at least 1");
        }
        if (config.timeout().toMillis() < 1) {
            problems.add("gateway.webhooks.timeout must be positive");
        }
        if (config.initialBackoff().isNegative()) {
            problems.add("gateway.webhooks.initial-backoff must not be negative");
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        return new WebhookSettings(List.copyOf(urls), secret, config.queueSize(), config.timeout(),
                config.maxAttempts(), config.initialBackoff(), config.concurrency());
    }

    /** Settings for tests and tools: the defaults of {@link OperationsConfig.WebhooksConfig} for the rest. */
    public static WebhookSettings of(List<URI> urls, String secret) {
        return new WebhookSettings(urls, secret == null ? null : secret.getBytes(StandardCharsets.UTF_8), 1000,
                Duration.ofSeconds(10), 5, Duration.ofSeconds(1), 4);
    }

    /** {@code scheme://host:port} of a receiver: what logs may show (paths and queries may hold tokens). */
    public static String origin(URI url) {
        int port = url.getPort() != -1 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
        return url.getScheme() + "://" + url.getHost() + ":" + port;
    }

    @Override
    public String toString() {
        // Never the secret, never full URLs.
        return "WebhookSettings[receivers=" + urls.stream().map(WebhookSettings::origin).toList() + ", signed="
                + (secret != null) + "]";
    }

    private static URI parse(String entry) {
        try {
            URI url = new URI(entry);
            String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
            if (!url.isAbsolute() || url.getHost() == null || !(scheme.equals("http") || scheme.equals("https"))
                    || url.getUserInfo() != null) {
                return null;
            }
            return url;
        } catch (Exception e) {
            return null;
        }
    }
}

package org.canonic.gateway.coordination;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Signed event notifications ({@code GATEWAY_WEBHOOK_URLS}). {@link #publish} only serializes the event and offers
 * it to each receiver's bounded queue: it never waits and never throws, so the lock, the health checks and the
 * request path can publish from anywhere. Delivery happens on one Vert.x context with the core HTTP client, per
 * receiver independently (see {@link WebhookEndpoint}); only a 2xx answer is success, anything else is retried with
 * exponential backoff and jitter, then dropped and counted. A 410 disables the receiver.
 *
 * <p>Body: {@code {"id":"evt_<uuid>","type","time","data"}}. Headers: see {@link WebhookSigner}. Metrics:
 * {@code gateway.webhook.deliveries{result=delivered|failed_attempt|dropped}} and
 * {@code gateway.webhook.queue.depth}; never labelled by URL, since URLs may hold tokens.
 */
@Startup
@Singleton
public class Webhooks {

    private static final Logger LOG = Logger.getLogger(Webhooks.class);

    private final ObjectMapper mapper;
    private final Context context;
    private final List<WebhookEndpoint> endpoints;
    private final byte[] secret;
    private final AtomicBoolean pumpScheduled = new AtomicBoolean();
    private final Counter delivered;
    private final Counter failedAttempts;
    private final Counter dropped;

    @Inject
    Webhooks(Vertx vertx, GatewayConfig config, MeterRegistry registry, ObjectMapper mapper) {
        this(vertx, WebhookSettings.from(config.webhooks()), registry, mapper);
    }

    public Webhooks(Vertx vertx, WebhookSettings settings, MeterRegistry registry, ObjectMapper mapper) {
        this.mapper = mapper;
        this.secret = settings.secret();
        // A context of its own: deliveries never run on a request's event loop, and all delivery state is confined
        // to this one thread-safe sequence of tasks.
        this.context = vertx.getOrCreateContext();
        this.delivered = counter(registry, "delivered", "Events a receiver accepted (2xx)");
        this.failedAttempts = counter(registry, "failed_attempt",
                "Delivery attempts that failed (non-2xx, connection error, timeout) and will be retried or dropped");
        this.dropped = counter(registry, "dropped",
                "Events given up for a receiver: attempts exhausted, queue full, or receiver disabled by a 410");
        WebhookSigner signer = secret == null ? null : new WebhookSigner(secret);
        WebhookEndpoint.Outcomes outcomes = new WebhookEndpoint.Outcomes() {
            @Override
            public void delivered() {
                delivered.increment();
            }

            @Override
            public void failedAttempt() {
                failedAttempts.increment();
            }

            @Override
            public void dropped(int events) {
                dropped.increment(events);
            }
        };
        this.endpoints = settings.urls().stream()
                .map(url -> new WebhookEndpoint(url, settings, signer, vertx, context, outcomes)).toList();
        Gauge.builder("gateway.webhook.queue.depth", this, Webhooks::queued)
                .description("Events waiting for delivery, summed over receivers").register(registry);
        if (!endpoints.isEmpty()) {
            LOG.infof("Webhooks go to %s", endpoints.stream().map(WebhookEndpoint::origin).toList());
            if (secret == null) {
                LOG.warn("Webhooks are sent UNSIGNED: set GATEWAY_WEBHOOK_SECRET or GATEWAY_WEBHOOK_SECRET_FILE so "
                        + "receivers can tell the gateway's events from forgeries");
            } else if (secret.length < 24) {
                LOG.warn("The webhook secret is shorter than 24 bytes; use at least 32 random bytes");
            }
        }
    }

    private static Counter counter(MeterRegistry registry, String result, String description) {
        return Counter.builder("gateway.webhook.deliveries").description(description).tag("result", result)
                .register(registry);
    }

    /**
     * Queues {@code {"id","type","time","data"}} for every receiver. Never blocks, never throws: an event that cannot
     * be serialized or queued is dropped, counted and logged.
     *
     * @param type one of {@link EventTypes}
     * @param data strings, numbers, booleans, nulls, lists and maps only; never a secret
     */
    public void publish(String type, Map<String, Object> data) {
        if (endpoints.isEmpty()) {
            return;
        }
        try {
            String id = "evt_" + UUID.randomUUID();
            ObjectNode event = mapper.createObjectNode();
            event.put("id", id);
            event.put("type", type);
            event.put("time", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
            event.set("data", mapper.valueToTree(data == null ? Map.of() : data));
            byte[] body = mapper.writeValueAsBytes(event);
            if (secret != null && new String(body, StandardCharsets.UTF_8)
                    .contains(new String(secret, StandardCharsets.UTF_8))) {
                // Last line of defence: an event that would carry the signing key is never sent.
                dropped.increment(endpoints.size());
                LOG.errorf("Webhook event %s (%s) dropped: it contained the webhook secret", id, type);
                return;
            }
            WebhookEndpoint.Event queued = new WebhookEndpoint.Event(id, body);
            for (WebhookEndpoint endpoint : endpoints) {
                if (!endpoint.offer(queued)) {
                    dropped.increment();
                    LOG.debugf("Webhook %s to %s dropped: queue full or receiver disabled", id, endpoint.origin());
                }
            }
            schedulePump();
        } catch (RuntimeException | JsonProcessingException e) {
            dropped.increment(endpoints.size());
            LOG.errorf("Webhook event %s could not be built and was dropped: %s", type, e.toString());
        }
    }

    /** At most one pump task waits on the context, however many events are published meanwhile. */
    private void schedulePump() {
        if (pumpScheduled.compareAndSet(false, true)) {
            context.runOnContext(v -> {
                pumpScheduled.set(false);
                endpoints.forEach(WebhookEndpoint::pump);
            });
        }
    }

    /** Events waiting, summed over receivers. */
    public int queued() {
        return endpoints.stream().mapToInt(WebhookEndpoint::queued).sum();
    }

    /** The receivers' origins ({@code scheme://host:port}), for logs and status views. */
    public List<String> receivers() {
        return endpoints.stream().map(WebhookEndpoint::origin).toList();
    }

    /** Delivery counts since start, for the console: never a URL (URLs may hold tokens). */
    public record Stats(int receivers, boolean signed, long delivered, long failedAttempts, long dropped, int queued) {
    }

    public Stats stats() {
        return new Stats(endpoints.size(), signed(), (long) delivered.count(), (long) failedAttempts.count(),
                (long) dropped.count(), queued());
    }

    public boolean signed() {
        return secret != null;
    }

    @PreDestroy
    void close() {
        endpoints.forEach(WebhookEndpoint::close);
    }
}

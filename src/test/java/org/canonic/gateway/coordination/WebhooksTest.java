package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.canonic.gateway.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Webhook delivery against real in-process HTTP receivers: signatures, isolation, retries, drops, 410. */
class WebhooksTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String SECRET = "whk-test-signing-secret-0123456789abcdef";

    private Vertx vertx;
    private MeterRegistry registry;
    private final List<WebhookReceiver> receivers = new ArrayList<>();
    private Webhooks webhooks;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        registry = new SimpleMeterRegistry();
    }

    @AfterEach
    void stop() {
        if (webhooks != null) {
            webhooks.close();
        }
        receivers.forEach(WebhookReceiver::close);
        vertx.close();
    }

    private WebhookReceiver receiver(WebhookReceiver.Mode mode) {
        WebhookReceiver receiver = WebhookReceiver.start(vertx, mode);
        receivers.add(receiver);
        return receiver;
    }

    private Webhooks webhooks(String secret, int maxAttempts, Duration backoff, Duration timeout, int queueSize,
                              int concurrency, WebhookReceiver... to) {
        List<URI> urls = Arrays.stream(to).map(WebhookReceiver::url).toList();
        webhooks = new Webhooks(vertx, new WebhookSettings(urls, secret == null ? null
                : secret.getBytes(StandardCharsets.UTF_8), queueSize, timeout, maxAttempts, backoff, concurrency),
                registry, MAPPER);
        return webhooks;
    }

    private double deliveries(String result) {
        return registry.get("gateway.webhook.deliveries").tag("result", result).counter().count();
    }

    @Test
    void everyLockEventAndABackendEventArriveWithBothSignaturesValid(@TempDir Path dir) throws Exception {
        WebhookReceiver receiver = receiver(WebhookReceiver.Mode.OK);
        Webhooks hooks = webhooks(SECRET, 3, Duration.ofMillis(50), Duration.ofSeconds(5), 100, 4, receiver);
        StateDirectory state = new StateDirectory(dir);
        MaintenanceLock lock = new FileMaintenanceLock(state, new AuditLog(state, MAPPER), hooks, vertx, MAPPER,
                Duration.ofMinutes(15), Duration.ofHours(24));

        List<String> tokens = new ArrayList<>();
        MaintenanceLock.Grant released = lock.acquire("provisioner", "swap vastai", 60L, "ci");
        tokens.add(released.token());
        lock.release(released.token(), "ci");
        tokens.add(lock.acquire("forgetful", null, 60L, "ci").token());
        lock.forceRelease("operator");
        tokens.add(lock.acquire("brief", null, 1L, "ci").token());
        hooks.publish(EventTypes.BACKEND_STATE_CHANGED, Map.of("backend", "vastai", "from", "UP", "to", "DOWN",
                "reason", "3 probes failed", "fencing", released.fencing()));

        // acquired ×3, released, forced, state_changed, and expired once the 1 s lease ends.
        List<WebhookReceiver.Delivery> all = receiver.await(7, 15_000);
        Map<String, JsonNode> byType = new java.util.HashMap<>();
        for (WebhookReceiver.Delivery delivery : all) {
            WebhookReceiver.verify(delivery, SECRET);
            JsonNode event = delivery.json();
            assertEquals(List.of("id", "type", "time", "data"), fieldNames(event));
            assertTrue(event.get("id").asText().startsWith("evt_"));
            assertEquals("application/json", delivery.header("content-type"));
            byType.put(event.get("type").asText(), event);
            assertFalse(delivery.body().contains(SECRET), "the secret is never in a body");
            for (String token : tokens) {
                assertFalse(delivery.body().contains(token), "a lock token is never in a body");
            }
        }
        assertEquals(Set.of(EventTypes.LOCK_ACQUIRED, EventTypes.LOCK_RELEASED, EventTypes.LOCK_FORCED,
                EventTypes.LOCK_EXPIRED, EventTypes.BACKEND_STATE_CHANGED), byType.keySet());
        assertEquals("provisioner", byType.get(EventTypes.LOCK_RELEASED).at("/data/holder").asText());
        assertEquals(released.fencing(), byType.get(EventTypes.LOCK_RELEASED).at("/data/fencing").asLong());
        assertEquals("operator", byType.get(EventTypes.LOCK_FORCED).at("/data/forced_by").asText());
        assertEquals("brief", byType.get(EventTypes.LOCK_EXPIRED).at("/data/holder").asText());
        JsonNode changed = byType.get(EventTypes.BACKEND_STATE_CHANGED).get("data");
        assertEquals("vastai", changed.get("backend").asText());
        assertEquals("DOWN", changed.get("to").asText());
        assertEquals(7, deliveries("delivered"));
    }

    @Test
    void aHangingAndAFailingReceiverDelayNeitherPublishNorAHealthyOne() throws Exception {
        WebhookReceiver hanging = receiver(WebhookReceiver.Mode.HANG);
        WebhookReceiver failing = receiver(WebhookReceiver.Mode.FAIL);
        WebhookReceiver healthy = receiver(WebhookReceiver.Mode.OK);
        int events = 10;
        int attempts = 3;
        Webhooks hooks = webhooks(SECRET, attempts, Duration.ofMillis(100), Duration.ofMillis(800), 100, 4,
                hanging, failing, healthy);
        hooks.publish("warm.up", Map.of()); // class loading and the first UUID belong to no measurement
        healthy.await(1, 10_000);

        long[] micros = new long[events];
        long firstPublish = System.currentTimeMillis();
        for (int i = 0; i < events; i++) {
            long start = System.nanoTime();
            hooks.publish(EventTypes.BACKEND_STATE_CHANGED, Map.of("backend", "b" + i, "from", "UP", "to", "DOWN",
                    "reason", "probe"));
            micros[i] = (System.nanoTime() - start) / 1000;
        }
        long[] sorted = micros.clone();
        Arrays.sort(sorted);
        assertTrue(sorted[events / 2] < 5_000, "publish must not wait: median " + sorted[events / 2] + " µs");
        assertTrue(sorted[events - 1] < 250_000, "no publish waited for a receiver: " + Arrays.toString(micros));

        // The healthy receiver has everything long before the hanging receiver's first attempt could time out.
        List<WebhookReceiver.Delivery> got = healthy.await(1 + events, 10_000);
        long last = got.stream().mapToLong(WebhookReceiver.Delivery::receivedAtMs).max().orElseThrow();
        assertTrue(last - firstPublish < 2_000, "healthy deliveries took " + (last - firstPublish) + " ms");
        for (WebhookReceiver.Delivery delivery : got) {
            WebhookReceiver.verify(delivery, SECRET);
        }

        // The failing receiver sees each event `attempts` times under one webhook-id, then it is dropped.
        List<WebhookReceiver.Delivery> failed = failing.await((1 + events) * attempts, 20_000);
        Map<String, Long> perId = failed.stream().collect(Collectors.groupingBy(d -> d.header("webhook-id"),
                Collectors.counting()));
        assertEquals(1 + events, perId.size());
        assertTrue(perId.values().stream().allMatch(n -> n == attempts), perId.toString());
        for (WebhookReceiver.Delivery delivery : failed) {
            WebhookReceiver.verify(delivery, SECRET); // every retry is signed afresh
        }
        awaitCount("dropped", 2 * (1 + events), 30_000); // the failing and the hanging receiver's
        assertEquals(1 + events, deliveries("delivered"));
        assertEquals(2 * (1 + events) * attempts, deliveries("failed_attempt"));
        assertEquals(0, hooks.queued());
        assertTrue(hanging.deliveries().size() >= 1, "the hanging receiver was tried");
    }

    @Test
    void aReceiverAnswering410IsDisabledAndTheOthersCarryOn() throws Exception {
        WebhookReceiver gone = receiver(WebhookReceiver.Mode.GONE);
        WebhookReceiver healthy = receiver(WebhookReceiver.Mode.OK);
        Webhooks hooks = webhooks(SECRET, 5, Duration.ofMillis(50), Duration.ofSeconds(5), 100, 1, gone, healthy);
        try (LogCapture logs = LogCapture.start()) {
            hooks.publish(EventTypes.LOCK_ACQUIRED, Map.of("holder", "a"));
            gone.await(1, 10_000);
            awaitCount("dropped", 1, 10_000);
            hooks.publish(EventTypes.LOCK_RELEASED, Map.of("holder", "a"));
            healthy.await(2, 10_000);
            assertEquals(1, gone.deliveries().size(), "nothing more goes to a receiver that said 410");
            assertEquals(2, deliveries("dropped"));
            assertEquals(0, deliveries("failed_attempt"), "410 is not retried");
            String text = logs.text();
            assertTrue(text.contains("answered 410") && text.contains("127.0.0.1"), text);
            assertFalse(text.contains("url-held-key"), "only the origin of a receiver is logged, never its path");
        }
    }

    @Test
    void withoutASecretDeliveriesAreUnsignedButStillIdentified() throws Exception {
        WebhookReceiver healthy = receiver(WebhookReceiver.Mode.OK);
        Webhooks hooks = webhooks(null, 1, Duration.ofMillis(50), Duration.ofSeconds(5), 10, 1, healthy);
        assertFalse(hooks.signed());
        hooks.publish(EventTypes.BACKEND_REGISTERED, Map.of("backend", "b"));
        WebhookReceiver.Delivery delivery = healthy.await(1, 10_000).get(0);
        assertNull(delivery.header("X-Gateway-Signature"));
        assertNull(delivery.header("webhook-signature"));
        assertEquals(delivery.json().get("id").asText(), delivery.header("webhook-id"));
        assertTrue(delivery.header("webhook-timestamp").matches("\\d+"));
    }

    @Test
    void aFullQueueDropsAndCountsInsteadOfWaiting() {
        WebhookReceiver hanging = receiver(WebhookReceiver.Mode.HANG);
        Webhooks hooks = webhooks(SECRET, 1, Duration.ofMillis(50), Duration.ofSeconds(30), 2, 1, hanging);
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            hooks.publish(EventTypes.BACKEND_CHANGED, Map.of("backend", "b" + i));
        }
        assertTrue(System.nanoTime() - start < 1_000_000_000L, "publishing never waits for queue space");
        assertTrue(deliveries("dropped") >= 7, "dropped " + deliveries("dropped"));
        assertTrue(hooks.queued() <= 2);
    }

    @Test
    void anEventThatWouldCarryTheSecretIsNeverSent() throws Exception {
        WebhookReceiver healthy = receiver(WebhookReceiver.Mode.OK);
        Webhooks hooks = webhooks(SECRET, 1, Duration.ofMillis(50), Duration.ofSeconds(5), 10, 1, healthy);
        hooks.publish(EventTypes.BACKEND_CHANGED, Map.of("oops", "key=" + SECRET));
        hooks.publish(EventTypes.BACKEND_CHANGED, Map.of("backend", "fine"));
        healthy.await(1, 10_000);
        Thread.sleep(200);
        assertEquals(1, healthy.deliveries().size());
        assertFalse(healthy.deliveries().get(0).body().contains(SECRET));
        assertEquals(1, deliveries("dropped"));
    }

    @Test
    void badSettingsStopTheStartWithoutRepeatingUrlsOrSecrets() {
        var config = org.canonic.gateway.testing.ConfigFixture.with(
                "gateway.webhooks.urls", "https://hooks.example.org/ok,ftp://files.example.org/x?key=leak,not a url",
                "gateway.webhooks.secret", SECRET,
                "gateway.webhooks.secret-file", "/nonexistent/secret").build();
        var refused = org.junit.jupiter.api.Assertions.assertThrows(
                org.canonic.gateway.config.InvalidConfigurationException.class,
                () -> WebhookSettings.from(config.webhooks()));
        String message = refused.getMessage();
        assertTrue(message.contains("entry 2") && message.contains("entry 3"), message);
        assertTrue(message.contains("GATEWAY_WEBHOOK_SECRET and GATEWAY_WEBHOOK_SECRET_FILE are both set"), message);
        assertFalse(message.contains("leak") || message.contains(SECRET), message);
    }

    private void awaitCount(String result, double expected, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (deliveries(result) < expected) {
            assertTrue(System.currentTimeMillis() < deadline, result + " reached only " + deliveries(result)
                    + " of " + expected);
            Thread.sleep(20);
        }
        Thread.sleep(100);
        assertEquals(expected, deliveries(result), result);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}

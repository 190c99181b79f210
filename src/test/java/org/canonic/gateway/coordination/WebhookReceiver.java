package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An in-process webhook receiver that answers as told (200, 500, 410, or never) and records every delivery. Its
 * signature check is written from the documented scheme, independently of the gateway's signer.
 */
public final class WebhookReceiver implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public enum Mode { OK, FAIL, GONE, HANG }

    public record Delivery(Map<String, String> headers, String body, long receivedAtMs) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    private final HttpServer server;
    private final Mode mode;
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private final List<HttpServerRequest> held = new CopyOnWriteArrayList<>();

    private WebhookReceiver(Vertx vertx, Mode mode) {
        this.mode = mode;
        this.server = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
            Map<String, String> headers = new HashMap<>();
            request.headers().forEach(h -> headers.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue()));
            deliveries.add(new Delivery(headers, body.toString(StandardCharsets.UTF_8), System.currentTimeMillis()));
            switch (mode) {
                case OK -> request.response().setStatusCode(200).end("ok");
                case FAIL -> request.response().setStatusCode(500).end("boom");
                case GONE -> request.response().setStatusCode(410).end();
                case HANG -> held.add(request);
            }
        }));
    }

    public static WebhookReceiver start(Vertx vertx, Mode mode) {
        WebhookReceiver receiver = new WebhookReceiver(vertx, mode);
        try {
            receiver.server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return receiver;
    }

    /** The receiver's URL, with a token in its query as real receivers often have (it must never be logged). */
    public URI url() {
        return URI.create("http://127.0.0.1:" + server.actualPort() + "/hooks/gateway?key=url-held-key-" + mode);
    }

    public List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    /** Waits until at least {@code count} deliveries arrived. */
    public List<Delivery> await(int count, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (deliveries.size() < count) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(mode + " receiver got " + deliveries.size() + " deliveries, expected "
                        + count);
            }
            Thread.sleep(10);
        }
        return deliveries();
    }

    /**
     * Checks both signatures of a delivery as a receiver would: Stripe-style {@code X-Gateway-Signature} and
     * Standard Webhooks, each with its timestamp within 300 s of now on both sides.
     */
    public static void verify(Delivery delivery, String secret) throws Exception {
        long now = System.currentTimeMillis() / 1000;
        String gateway = delivery.header("X-Gateway-Signature");
        assertTrue(gateway != null && gateway.matches("t=\\d+,v1=[0-9a-f]{64}"), "X-Gateway-Signature: " + gateway);
        long t = Long.parseLong(gateway.substring(2, gateway.indexOf(',')));
        assertTrue(Math.abs(now - t) <= 300);
        String expected = HexFormat.of().formatHex(hmac(secret, t + "." + delivery.body()));
        assertTrue(MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                gateway.substring(gateway.indexOf("v1=") + 3).getBytes(StandardCharsets.US_ASCII)),
                "Stripe-style signature does not verify");

        String id = delivery.header("webhook-id");
        long timestamp = Long.parseLong(delivery.header("webhook-timestamp"));
        assertTrue(Math.abs(now - timestamp) <= 300);
        String signature = delivery.header("webhook-signature");
        assertTrue(signature.startsWith("v1,"), signature);
        byte[] mac = hmac(secret, id + "." + timestamp + "." + delivery.body());
        assertTrue(MessageDigest.isEqual(mac, Base64.getDecoder().decode(signature.substring(3))),
                "Standard Webhooks signature does not verify");
        assertEquals(id, delivery.json().get("id").asText(), "webhook-id is the event id");
    }

    private static byte[] hmac(String secret, String content) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return mac.doFinal(content.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        held.forEach(r -> r.connection().close());
        server.close();
    }
}

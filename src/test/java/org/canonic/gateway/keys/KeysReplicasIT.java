package org.canonic.gateway.keys;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.testing.PackagedGateway;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two packaged gateways sharing one real Redis, over HTTP: a key made on one is accepted by the other, and once
 * deleted on that other, refused by the first within seconds; neither the answers nor Redis hold the key.
 */
class KeysReplicasIT {

    private static final String ADMIN = "keys-it-admin-token-0123456789abcdef0123";
    private static final String CI_KEY = "keys-it-ci-key-0123456789abcdef";

    private static RedisServer redis;
    private static PackagedGateway a;
    private static PackagedGateway b;

    @BeforeAll
    static void start() throws Exception {
        assertTrue(Files.exists(PackagedGateway.JAR), "package the gateway first");
        redis = RedisServer.start();
        CompletableFuture<PackagedGateway> first = CompletableFuture.supplyAsync(() -> launch("keys-a"));
        CompletableFuture<PackagedGateway> second = CompletableFuture.supplyAsync(() -> launch("keys-b"));
        a = first.get(90, TimeUnit.SECONDS);
        b = second.get(90, TimeUnit.SECONDS);
    }

    private static PackagedGateway launch(String id) {
        try {
            return PackagedGateway.start(Map.of("GATEWAY_STATE_STORE", "redis", "QUARKUS_REDIS_HOSTS", redis.url(),
                    "GATEWAY_STATE_REPLICA_ID", id, "GATEWAY_API_KEYS", "ci:" + CI_KEY, "GATEWAY_ADMIN_TOKEN", ADMIN,
                    "GATEWAY_STATE_DIR", Files.createTempDirectory(id).toString()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (PackagedGateway gateway : new PackagedGateway[]{a, b}) {
            if (gateway != null && gateway.process().isAlive()) {
                gateway.terminate(40);
            }
        }
        if (redis != null) {
            redis.close();
        }
    }

    private static int models(PackagedGateway gateway, String key) {
        return gateway.client().get("/v1/models", "authorization", "Bearer " + key).statusCode();
    }

    private static HttpResponse<String> admin(PackagedGateway gateway, String method, String path, String body) {
        return gateway.client().call(method, path, body, "authorization", "Bearer " + ADMIN);
    }

    private static long awaitStatus(PackagedGateway gateway, String key, int status) throws InterruptedException {
        long started = System.nanoTime();
        while (models(gateway, key) != status) {
            assertTrue(System.nanoTime() - started < 5_000_000_000L, "no " + status + " within 5 s");
            Thread.sleep(20);
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    @Test
    void aKeyMadeOnOneReplicaIsAcceptedByTheOtherAndADeletionOnEitherHoldsOnBoth() throws Exception {
        assertEquals(200, models(b, CI_KEY));
        HttpResponse<String> made = admin(a, "POST", "/admin/keys", "{\"id\":\"shared\"}");
        assertEquals(201, made.statusCode(), made.body());
        String key = new ObjectMapper().readTree(made.body()).get("key").asText();
        assertEquals(200, models(a, key));
        long accepted = awaitStatus(b, key, 200);
        HttpResponse<String> list = admin(b, "GET", "/admin/keys", null);
        assertTrue(list.body().contains("\"shared\"") && !list.body().contains(key), list.body());

        assertEquals(200, admin(b, "DELETE", "/admin/keys/shared", null).statusCode());
        assertEquals(401, models(b, key));
        long refused = awaitStatus(a, key, 401);
        System.out.printf("Key made on a accepted by b after %d ms; deleted on b, refused by a after %d ms%n",
                accepted, refused);
        assertTrue(refused < 3000, refused + " ms");
        assertFalse(a.output().contains(key) || b.output().contains(key), "the key is never logged");
        assertEquals(200, models(a, CI_KEY), "other keys are untouched");
    }
}

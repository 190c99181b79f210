package org.canonic.gateway.keys;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import org.canonic.gateway.policy.ClientKeys;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.ConfigFixture;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three replicas' key registries on one real Redis (the packaged jars sharing Redis do the same over HTTP in
 * {@code ReplicasIT}): a key made on one is accepted by the others, and once deleted refused by all within seconds,
 * whether the replica hears the announcement (subscribed, a long reload interval) or only checks the version (not
 * subscribed, a short one).
 */
class SharedClientKeysTest {

    private static RedisServer redis;
    private static Vertx vertx;
    private final List<ClientKeyRegistry> started = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get();
        redis.close();
    }

    private ClientKeyRegistry replica(String prefix, String id, String reload, boolean subscribed) {
        StateStore store = redis.store(vertx, prefix, id, Duration.ofSeconds(2));
        List<String> problems = new ArrayList<>();
        ClientKeyRegistry registry = new ClientKeyRegistry(ConfigFixture.with("gateway.auth.keys",
                "ci:ci-key-0123456789abcdef", "gateway.auth.reload-interval", reload).build().auth(),
                new RedisIssuedKeyStore(store, new ObjectMapper()), problems);
        assertEquals(List.of(), problems);
        if (subscribed) {
            store.subscribe(RedisIssuedKeyStore.CHANNEL, registry::refreshIssued);
        }
        registry.start(vertx);
        started.add(registry);
        return registry;
    }

    private static void await(BooleanSupplier condition, long ms, String what) throws InterruptedException {
        long deadline = System.nanoTime() + ms * 1_000_000;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(20);
        }
    }

    @Test
    void aKeyMadeOnOneReplicaWorksOnAllAndOnceDeletedIsRefusedByAllWithinSeconds() throws Exception {
        String prefix = "keys-" + UUID.randomUUID();
        try {
            ClientKeyRegistry a = replica(prefix, "a", "5m", true);
            ClientKeyRegistry b = replica(prefix, "b", "5m", true);
            ClientKeyRegistry c = replica(prefix, "c", "300ms", false);

            ClientKeyRegistry.Created made = a.create("shared", List.of("main"));
            String key = made.key();
            assertTrue(a.current().match(key).isPresent(), "the replica that made it accepts it at once");
            await(() -> b.current().match(key).isPresent(), 3000, "b hears the announcement");
            await(() -> c.current().match(key).isPresent(), 3000, "c sees the version move");
            assertEquals(java.util.Set.of("main"), c.current().match(key).orElseThrow().routes());

            a.used("shared");
            a.flushUse();
            assertTrue(c.list().stream().anyMatch(view -> view.id().equals("shared") && view.lastUsed() != null),
                    "last use is shared");

            StateStore probe = redis.store(vertx, prefix, "probe", Duration.ofSeconds(2));
            String stored = probe.call(Command.HGETALL, probe.key("client-keys")).toString();
            assertTrue(stored.contains(HexFormat.of().formatHex(ClientKeys.sha256(key))) && !stored.contains(key),
                    "Redis holds the digest, not the key");

            assertEquals("shared", b.delete("shared").id(), "deleted on another replica than the one that made it");
            assertFalse(b.current().match(key).isPresent());
            await(() -> a.current().match(key).isEmpty(), 3000, "a hears the announcement and refuses it");
            await(() -> c.current().match(key).isEmpty(), 3000, "c sees the version move and refuses it");
        } finally {
            started.forEach(ClientKeyRegistry::close);
        }
    }
}

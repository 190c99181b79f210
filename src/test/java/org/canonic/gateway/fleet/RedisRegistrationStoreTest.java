package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared registry of two replicas on a real Redis: one owner per name, no replica erasing another's backends. */
class RedisRegistrationStoreTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static RedisServer redis;
    private static Vertx vertx;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close();
        redis.close();
    }

    private static RedisRegistrationStore replica(RedisServer server, String prefix, String id) {
        return new RedisRegistrationStore(server.store(vertx, prefix, id, Duration.ofSeconds(1)), MAPPER);
    }

    private static BackendRegistration backend(String name) throws Exception {
        List<String> problems = new ArrayList<>();
        BackendRegistration registration = BackendRegistration.parse(MAPPER.readTree("{\"name\":\"" + name
                + "\",\"base_url\":\"http://10.0.0.9:8000/v1\",\"model\":\"m\",\"routes\":[\"chat\"]}"), problems);
        assertTrue(problems.isEmpty(), problems.toString());
        return registration;
    }

    private static List<String> names(RegistrationStore.Contents contents) {
        return contents.backends().stream().map(r -> r.definition().name()).sorted().toList();
    }

    @Test
    void aSaveFromAStaleViewIsRefusedAndChangesNothingUntilTheReplicaReadsAgain() throws Exception {
        String prefix = "registry-" + UUID.randomUUID();
        RedisRegistrationStore a = replica(redis, prefix, "a");
        RedisRegistrationStore b = replica(redis, prefix, "b");
        a.save(List.of(backend("vast-1")), Map.of("chat", List.of("vast-1")));
        // b has not read a's change yet: its save would be based on a registry that no longer exists.
        for (List<BackendRegistration> view : List.of(List.of(backend("vast-1")), List.of(backend("vast-2")))) {
            FleetException stale = assertThrows(FleetException.class,
                    () -> b.save(view, Map.of("chat", List.of(view.get(0).definition().name()))));
            assertEquals(409, stale.status());
            assertEquals(RedisRegistrationStore.CONFLICT, stale.code());
        }
        List<String> problems = new ArrayList<>();
        assertEquals(List.of("vast-1"), names(b.load(problems)), "nothing of b's refused saves was written");
        b.save(List.of(backend("vast-1"), backend("vast-2")), Map.of("chat", List.of("vast-1", "vast-2")));
        assertEquals(List.of("vast-1", "vast-2"), names(a.load(problems)));
        assertTrue(problems.isEmpty());

        a.save(List.of(backend("vast-2")), Map.of("chat", List.of("vast-2")));
        assertEquals(List.of("vast-2"), names(b.load(problems)), "a deregistration removes what the replica knew");
    }

    @Test
    void anEntryThatCannotBeReadIsReportedAndNeverDeletedByTheNextSave() throws Exception {
        String prefix = "registry-" + UUID.randomUUID();
        org.canonic.gateway.state.StateStore raw = redis.store(vertx, prefix, "raw", Duration.ofSeconds(1));
        RedisRegistrationStore a = new RedisRegistrationStore(raw, MAPPER);
        a.save(List.of(backend("vast-1")), Map.of("chat", List.of("vast-1")));
        raw.call(io.vertx.redis.client.Command.HSET, raw.key("backends"), "broken", "\u0000{not json");
        raw.call(io.vertx.redis.client.Command.HSET, raw.key("backends"), "odd", "{\"name\":\"odd\"}");
        List<String> problems = new ArrayList<>();
        assertEquals(List.of("vast-1"), names(a.load(problems)));
        assertEquals(2, problems.size(), problems.toString());
        a.save(List.of(backend("vast-1"), backend("vast-2")), Map.of("chat", List.of("vast-1", "vast-2")));
        assertTrue(raw.call(io.vertx.redis.client.Command.HEXISTS, raw.key("backends"), "broken").toBoolean(),
                "kept for the operator to repair");
        assertTrue(raw.call(io.vertx.redis.client.Command.HEXISTS, raw.key("backends"), "odd").toBoolean());
    }

    @Test
    void aRegistryLostWithRedisIsNotTakenForEveryBackendDeregistered() throws Exception {
        RedisServer own = RedisServer.start();
        try {
            RedisRegistrationStore a = replica(own, "lost", "a");
            RedisRegistrationStore b = replica(own, "lost", "b");
            List<String> problems = new ArrayList<>();
            assertFalse(a.load(problems).backends().size() > 0);
            assertFalse(a.lost(), "an empty registry on a fresh Redis is just empty");
            a.save(List.of(backend("vast-1")), Map.of("chat", List.of("vast-1")));
            b.load(problems);
            own.restart();
            assertTrue(awaitLoad(a).backends().isEmpty());
            assertTrue(a.lost());
            awaitLoad(b);
            assertTrue(b.lost());
            // Both store what they know again, one after the other: a merge, not a refusal.
            a.save(List.of(backend("vast-1")), Map.of("chat", List.of("vast-1")));
            b.save(List.of(backend("vast-1")), Map.of("chat", List.of("vast-1")));
            assertEquals(List.of("vast-1"), names(a.load(problems)));
            assertFalse(a.lost());
        } finally {
            own.close();
        }
    }

    private static RegistrationStore.Contents awaitLoad(RedisRegistrationStore store) throws Exception {
        long deadline = System.currentTimeMillis() + 5000;
        while (true) {
            try {
                return store.load(new ArrayList<>());
            } catch (RuntimeException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }
}

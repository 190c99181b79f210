package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.state.SealedValues;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tracked actions with a shared store: each replica still appends its own file, and every line also reaches one
 * stream from which the other replicas (the leader among them) learn of instances they did not launch.
 */
class SharedTrackedActionsTest {

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

    private static StateStore store(String replica) {
        return redis.store(vertx, "tracked-test", replica, Duration.ofSeconds(1));
    }

    @Test
    void anInstanceLaunchedOnOneReplicaIsKnownToTheOthers() throws Exception {
        TrackedActions onA = new TrackedActions(Files.createTempDirectory("a").resolve(TrackedActions.FILE), MAPPER,
                store("a"));
        Path fileB = Files.createTempDirectory("b").resolve(TrackedActions.FILE);
        TrackedActions onB = new TrackedActions(fileB, MAPPER, store("b"));
        TrackedInstance launched = new TrackedInstance("mg-chat-gw-5ca1ab1e", "vastai", "chat");
        launched.estimateCents = 120;
        onA.append(onA.record("ops", launched, "provision", 3L), "intent", null, TrackedInstance.State.PROVISIONING);
        launched.providerId = "4242";
        onA.append(onA.record("ops", launched, "provision", 3L), "ok", null, TrackedInstance.State.WAITING);

        Map<String, TrackedInstance> known = new LinkedHashMap<>();
        String cursor = onB.replayShared("0", known, 12345L);
        TrackedInstance seen = known.get("mg-chat-gw-5ca1ab1e");
        assertEquals(TrackedInstance.State.WAITING, seen.state());
        assertEquals("4242", seen.providerId());
        assertEquals(12345L, seen.readinessDeadlineMs, "a waiting instance learned from another replica gets a deadline");
        assertEquals("a", seen.writer, "the replica that wrote it: the leader takes its launch over only once it left");
        assertEquals(2, onA.readAll().size(), "the file of the replica that acted");
        assertFalse(Files.exists(fileB), "not copied into the other replica's file");

        onB.append(onB.record("gateway", seen, "ready", null), "ok", null, TrackedInstance.State.READY);
        String after = onB.replayShared(cursor, known, 0);
        assertNotEquals(cursor, after, "the cursor moves past the replica's own line");
        assertEquals(TrackedInstance.State.WAITING, known.get("mg-chat-gw-5ca1ab1e").state(),
                "its own lines are not replayed back onto it");
        Map<String, TrackedInstance> onAKnows = new LinkedHashMap<>();
        onA.replayShared("0", onAKnows, 0);
        assertEquals(TrackedInstance.State.READY, onAKnows.get("mg-chat-gw-5ca1ab1e").state(),
                "the leader's outcome reaches the replica that launched it");
    }

    @Test
    void anInstanceKeyCreatedOnOneReplicaIsReadableOnTheOtherAsAnOwnerOnlyFile() throws Exception {
        Path dirA = Files.createTempDirectory("keys-a");
        Path dirB = Files.createTempDirectory("keys-b");
        Path secret = Files.createTempFile("state-key", ".txt");
        Files.writeString(secret, "a-state-key-of-at-least-32-random-bytes-0123456789");
        SealedValues seal = SealedValues.fromFile(secret.toString());
        InstanceKeys onA = new InstanceKeys(dirA, store("a"), seal);
        InstanceKeys onB = new InstanceKeys(dirB, store("b"), seal);
        String key = onA.create("mg-chat-gw-00c0ffee");
        // What Redis holds is sealed: no usable key for whoever reads it.
        String shared = store("x").call(io.vertx.redis.client.Command.HGET, store("x").key("instance-keys"),
                "mg-chat-gw-00c0ffee").toString();
        assertTrue(shared.startsWith(SealedValues.PREFIX), shared);
        assertFalse(shared.contains(key));
        // Another replica with another state key cannot open it.
        Path other = Files.createTempFile("state-key", ".txt");
        Files.writeString(other, "another-state-key-of-at-least-32-bytes-9876543210");
        assertTrue(new InstanceKeys(Files.createTempDirectory("keys-d"), store("d"),
                SealedValues.fromFile(other.toString())).read("mg-chat-gw-00c0ffee").isEmpty());
        assertFalse(Files.exists(onB.path("mg-chat-gw-00c0ffee")));
        assertEquals(key, onB.read("mg-chat-gw-00c0ffee").orElseThrow());
        assertEquals(key, Files.readString(onB.path("mg-chat-gw-00c0ffee")), "written here for api_key_file");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(onB.path("mg-chat-gw-00c0ffee"))));
        onA.delete("mg-chat-gw-00c0ffee");
        assertTrue(new InstanceKeys(Files.createTempDirectory("keys-c"), store("c"), seal).read("mg-chat-gw-00c0ffee")
                .isEmpty(), "a destroyed instance's key is gone everywhere it was not yet copied");
    }

    @Test
    void aTrackedActionThatCannotReachTheSharedStreamIsNotTaken() throws Exception {
        RedisServer own = RedisServer.start();
        StateStore store = own.store(vertx, "down", "a", Duration.ofMillis(500));
        TrackedActions tracked = new TrackedActions(Files.createTempDirectory("down").resolve(TrackedActions.FILE),
                MAPPER, store);
        own.close();
        TrackedInstance instance = new TrackedInstance("mg-chat-gw-0ff11ne0", "vastai", "chat");
        // Thrown before the provider is called; the intent already in the file is resolved like a crash's.
        assertThrows(org.canonic.gateway.state.StateStoreUnavailable.class, () -> tracked.append(
                tracked.record("ops", instance, "provision", null), "intent", null,
                TrackedInstance.State.PROVISIONING));
        assertEquals(1, tracked.readAll().size());
    }
}

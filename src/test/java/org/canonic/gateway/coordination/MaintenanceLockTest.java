package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lock as a component: guard, expiry, fencing across restarts, races, refusals, fail-closed persistence. */
class MaintenanceLockTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static Vertx vertx;
    private static Webhooks noWebhooks;

    @TempDir
    Path dir;
    private StateDirectory state;
    private AuditLog audit;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
        noWebhooks = new Webhooks(vertx, WebhookSettings.of(List.of(), null), new SimpleMeterRegistry(), MAPPER);
    }

    @AfterAll
    static void stopVertx() {
        vertx.close();
    }

    @BeforeEach
    void freshState() {
        state = new StateDirectory(dir);
        audit = new AuditLog(state, MAPPER);
    }

    private MaintenanceLock newLock() {
        return new FileMaintenanceLock(state, audit, noWebhooks, vertx, MAPPER, Duration.ofMinutes(15),
                Duration.ofHours(24));
    }

    @Test
    void statusDoesNotWaitForAGuardedChangeInProgress() throws Exception {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant grant = lock.acquire("ops", "slow change", 600L, "ops");
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
        Thread change = new Thread(() -> lock.guarded(grant.token(), guard -> {
            inside.countDown();
            try {
                finish.await(); // a forced drain or a slow provider call
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }));
        change.start();
        try {
            assertTrue(inside.await(5, java.util.concurrent.TimeUnit.SECONDS));
            // Before, status() waited on the change's monitor: this timed out.
            MaintenanceLock.Status status = java.util.concurrent.CompletableFuture.supplyAsync(lock::status)
                    .get(1, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(status.held());
            assertEquals("ops", status.holder());
        } finally {
            finish.countDown();
            change.join(5000);
        }
    }

    @Test
    void withoutALockMutationsPassWithoutAFencingNumber() {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Guard guard = lock.guarded(null, g -> g);
        assertFalse(guard.locked());
        assertNull(guard.fencing());
        assertEquals("done", lock.guarded("any-token", () -> "done"));
    }

    @Test
    void aHeldLockRefusesMutationsWithoutItsTokenAndPassesThemWithIt() {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant grant = lock.acquire("provisioner", "swap vastai", 600L, "ci");
        AtomicInteger ran = new AtomicInteger();
        for (String wrong : new String[]{null, "", "gwlock_wrong", grant.token() + "x"}) {
            Locked refused = assertThrows(Locked.class, () -> lock.guarded(wrong, () -> ran.incrementAndGet()));
            assertEquals("provisioner", refused.holder());
            assertEquals(grant.expiresAt(), refused.expiresAt());
            assertTrue(refused.secondsLeft() > 590 && refused.secondsLeft() <= 600, "" + refused.secondsLeft());
            assertTrue(refused.getMessage().contains("provisioner") && !refused.getMessage().contains(grant.token()));
        }
        assertEquals(0, ran.get(), "no refused mutation ran");
        MaintenanceLock.Guard guard = lock.guarded(grant.token(), g -> g);
        assertEquals(grant.fencing(), guard.fencing());
    }

    @Test
    void tokensAreLongRandomAndNeverShownAgain() throws Exception {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant first = lock.acquire("a", null, null, "ci");
        lock.release(first.token(), "ci");
        MaintenanceLock.Grant second = lock.acquire("b", "r", 60L, "ci");
        assertNotEquals(first.token(), second.token());
        String encoded = second.token().substring(LockRules.TOKEN_PREFIX.length());
        assertTrue(Base64.getUrlDecoder().decode(encoded).length >= 16, "at least 128 random bits");
        assertFalse(second.toString().contains(second.token()));
        assertFalse(lock.toJson(lock.status()).toString().contains(second.token()));
        for (Path file : List.of(state.resolve(MaintenanceLock.FILE), audit.file())) {
            String text = Files.readString(file);
            assertFalse(text.contains(first.token()) || text.contains(second.token()), file + " holds a token");
        }
    }

    @Test
    void theDefaultLeaseApplies() {
        MaintenanceLock.Grant grant = newLock().acquire("a", null, null, "ci");
        long seconds = Duration.between(Instant.now(), grant.expiresAt()).toSeconds();
        assertTrue(seconds > 890 && seconds <= 900, "15 minutes, got " + seconds);
    }

    @Test
    void theLockExpiresByItselfAtItsTtl() throws Exception {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant grant = lock.acquire("short", null, 1L, "ci");
        assertTrue(lock.status().held());
        // The timer alone ends it: lock.json shows no lock although nobody touches the lock object meanwhile.
        long deadline = System.currentTimeMillis() + 10_000;
        while (!MAPPER.readTree(Files.readString(state.resolve(MaintenanceLock.FILE))).get("lock").isNull()) {
            assertTrue(System.currentTimeMillis() < deadline, "the lock did not expire within 10 s");
            Thread.sleep(50);
        }
        assertTrue(Instant.now().isAfter(grant.expiresAt().minusMillis(1)));
        assertFalse(lock.status().held());
        assertEquals(grant.fencing(), lock.status().fencing(), "the last fencing number stays visible");
        assertFalse(lock.guarded(null, g -> g).locked(), "mutations pass again");
        MaintenanceLock.Grant next = lock.acquire("next", null, 60L, "ci");
        assertEquals(grant.fencing() + 1, next.fencing());
        assertThrows(Locked.class, () -> lock.guarded(grant.token(), () -> 1), "an expired holder's token is void");
    }

    @Test
    void fencingNumbersGrowWithEveryAcquisitionAndAcrossRestarts() {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant a = lock.acquire("a", null, 60L, "ci");
        lock.release(a.token(), "ci");
        MaintenanceLock.Grant b = lock.acquire("b", null, 60L, "ci");
        lock.forceRelease("operator");
        assertEquals(a.fencing() + 1, b.fencing());

        MaintenanceLock restarted = newLock();
        assertEquals(b.fencing(), restarted.status().fencing());
        MaintenanceLock.Grant c = restarted.acquire("c", null, 60L, "ci");
        assertEquals(b.fencing() + 1, c.fencing());

        // A lock held at a restart is still held afterwards, and its token still works.
        MaintenanceLock again = newLock();
        assertTrue(again.status().held());
        assertEquals("c", again.status().holder());
        assertThrows(Locked.class, () -> again.guarded(null, () -> 1));
        assertEquals(c.fencing(), again.guarded(c.token(), g -> g).fencing());
        again.release(c.token(), "ci");
        assertEquals(c.fencing() + 1, again.acquire("d", null, 60L, "ci").fencing());
    }

    @Test
    void twentyRacingAcquisitionsGiveExactlyOneHolder() throws Exception {
        MaintenanceLock lock = newLock();
        ExecutorService pool = Executors.newFixedThreadPool(20);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String holder = "racer-" + i;
            Callable<Boolean> race = () -> {
                start.await();
                try {
                    lock.acquire(holder, null, 60L, "ci");
                    return true;
                } catch (Locked e) {
                    return false;
                }
            };
            results.add(pool.submit(race));
        }
        start.countDown();
        int winners = 0;
        for (Future<Boolean> result : results) {
            winners += result.get() ? 1 : 0;
        }
        pool.shutdown();
        assertEquals(1, winners);
        assertEquals(1, lock.status().fencing());
        assertEquals(1, Files.readAllLines(audit.file()).size(), "one successful acquisition audited");
    }

    @Test
    void badRequestsAreRefusedWithAClearMessageAndChangeNothing() throws Exception {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant grant = lock.acquire("keeper", null, 600L, "ci");
        byte[] before = Files.readAllBytes(state.resolve(MaintenanceLock.FILE));
        long auditLines = Files.readAllLines(audit.file()).size();

        for (long ttl : new long[]{0, -5, 365L * 24 * 3600}) {
            LockRequestException refused = assertThrows(LockRequestException.class,
                    () -> lock.acquire("x", null, ttl, "ci"));
            assertEquals(400, refused.status());
            assertEquals("invalid_ttl", refused.code());
            assertTrue(refused.getMessage().contains("between 1 and 86400"), refused.getMessage());
            assertThrows(LockRequestException.class, () -> lock.renew(grant.token(), ttl, "ci"));
        }
        assertEquals("missing_holder", assertThrows(LockRequestException.class,
                () -> lock.acquire("  ", null, 60L, "ci")).code());
        assertEquals("invalid_holder", assertThrows(LockRequestException.class,
                () -> lock.acquire("a\nb", null, 60L, "ci")).code());
        assertEquals("missing_lock_token", assertThrows(LockRequestException.class,
                () -> lock.release(null, "ci")).code());
        assertThrows(Locked.class, () -> lock.release("gwlock_not-it", "ci"));
        assertThrows(Locked.class, () -> lock.renew("gwlock_not-it", 60L, "ci"));
        assertThrows(Locked.class, () -> lock.acquire("intruder", null, 60L, "ci"));

        assertArrayEquals(before, Files.readAllBytes(state.resolve(MaintenanceLock.FILE)));
        assertEquals(auditLines, Files.readAllLines(audit.file()).size());
        assertEquals("keeper", lock.status().holder());
        assertEquals(grant.fencing(), lock.status().fencing());

        lock.release(grant.token(), "ci");
        assertEquals(409, assertThrows(LockRequestException.class, () -> lock.release(grant.token(), "ci")).status());
        assertEquals(409, assertThrows(LockRequestException.class, () -> lock.forceRelease("op")).status());
    }

    @Test
    void renewingExtendsTheLeaseFromNow() {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant grant = lock.acquire("a", null, 30L, "ci");
        MaintenanceLock.Status renewed = lock.renew(grant.token(), 3600L, "ci");
        long seconds = Duration.between(Instant.now(), renewed.expiresAt()).toSeconds();
        assertTrue(seconds > 3590 && seconds <= 3600, "" + seconds);
        assertEquals(grant.fencing(), renewed.fencing(), "renewing is not a new acquisition");
        long again = Duration.between(Instant.now(), lock.renew(grant.token(), null, "ci").expiresAt()).toSeconds();
        assertTrue(again > 3590, "without ttl_seconds the last lease is used again, got " + again);
    }

    @Test
    void everyMutationIsAuditedOnceWithTheFencingNumberOfTheTokenUsed() throws Exception {
        MaintenanceLock lock = newLock();
        MaintenanceLock.Grant grant = lock.acquire("a", "why", 60L, "alice");
        lock.renew(grant.token(), 120L, "alice");
        lock.release(grant.token(), "alice");
        lock.acquire("b", null, 60L, "bob");
        lock.forceRelease("carol");
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(audit.file())) {
            lines.add(MAPPER.readTree(line));
        }
        assertEquals(List.of("lock.acquire", "lock.renew", "lock.release", "lock.acquire", "lock.force_release"),
                lines.stream().map(l -> l.get("action").asText()).toList());
        assertTrue(lines.stream().allMatch(l -> l.get("result").asText().equals("ok")));
        assertTrue(lines.get(0).get("lock").isNull() && lines.get(0).get("before").isNull());
        assertEquals("a", lines.get(0).at("/after/holder").asText());
        assertEquals(grant.fencing(), lines.get(1).get("lock").asLong());
        assertEquals(grant.fencing(), lines.get(2).get("lock").asLong());
        assertTrue(lines.get(2).get("after").isNull());
        assertTrue(lines.get(4).get("lock").isNull(), "a forced release uses no token");
        assertEquals("carol", lines.get(4).get("caller").asText());
        assertEquals("b", lines.get(4).at("/before/holder").asText());
    }

    @Test
    void anUnwritableAuditLogMakesTheMutationFailAndChangesNothing() throws Exception {
        MaintenanceLock lock = newLock();
        Files.createDirectory(audit.file());
        CoordinationUnavailable refused = assertThrows(CoordinationUnavailable.class,
                () -> lock.acquire("a", null, 60L, "ci"));
        assertEquals(CoordinationUnavailable.AUDIT, refused.code());
        assertFalse(lock.status().held());
        assertTrue(MAPPER.readTree(Files.readString(state.resolve(MaintenanceLock.FILE))).get("lock").isNull(),
                "the persisted lock was undone");
        assertFalse(newLock().status().held(), "and a restart does not resurrect it");
    }

    @Test
    void aLockFileThatCannotBeTrustedStopsTheStart() throws Exception {
        Files.writeString(state.resolve(MaintenanceLock.FILE), "{\"fencing\":\"seven\"}");
        InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class, this::newLock);
        assertTrue(refused.getMessage().contains("lock.json cannot be trusted"), refused.getMessage());
    }

    /** A lock.json as a gateway would write it, with the given numbers and texts. */
    private void writeLockFile(long fencing, String holder, Instant expiresAt, long ttlSeconds) throws Exception {
        var root = MAPPER.createObjectNode().put("fencing", fencing);
        root.putObject("lock").put("holder", holder).put("reason", "r").put("fencing", fencing)
                .put("acquired_at", Instant.now().toString()).put("expires_at", expiresAt.toString())
                .put("ttl_seconds", ttlSeconds).put("token_sha256",
                        java.util.HexFormat.of().formatHex(LockFile.sha256("gwlock_known")));
        Files.write(state.resolve(MaintenanceLock.FILE), MAPPER.writeValueAsBytes(root));
    }

    @Test
    void aLoadedLeaseLongerThanTheMaximumIsCappedAtIt() throws Exception {
        writeLockFile(7, "mallory", Instant.now().plusSeconds(30_000_000_000L), 30_000_000_000L);
        MaintenanceLock lock = newLock();
        assertTrue(lock.status().held());
        long maxSeconds = Duration.ofHours(24).toSeconds();
        assertTrue(lock.status().secondsLeft() <= maxSeconds, "capped: " + lock.status().secondsLeft());
        assertTrue(lock.status().expiresAt().isBefore(Instant.now().plusSeconds(maxSeconds + 5)));
        // A renewal without a TTL reuses the lease it was taken with: that too is within the maximum.
        MaintenanceLock.Status renewed = lock.renew("gwlock_known", null, "ci");
        assertTrue(renewed.secondsLeft() <= maxSeconds, "renewed within the maximum: " + renewed.secondsLeft());
    }

    @Test
    void aFencingNumberAtTheTopOfItsRangeNeverOverflows() throws Exception {
        Files.writeString(state.resolve(MaintenanceLock.FILE), "{\"fencing\":" + Long.MAX_VALUE + ",\"lock\":null}");
        InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class, this::newLock);
        assertTrue(refused.getMessage().contains("lock.json cannot be trusted"), refused.getMessage());

        Files.writeString(state.resolve(MaintenanceLock.FILE), "{\"fencing\":" + MaintenanceLock.MAX_FENCING
                + ",\"lock\":null}");
        MaintenanceLock lock = newLock();
        CoordinationUnavailable exhausted = assertThrows(CoordinationUnavailable.class,
                () -> lock.acquire("a", null, 60L, "ci"));
        assertEquals(CoordinationUnavailable.STATE, exhausted.code());
        assertFalse(lock.status().held());
        assertEquals(MaintenanceLock.MAX_FENCING, lock.status().fencing(), "never negative, never reused");

        Files.writeString(state.resolve(MaintenanceLock.FILE), "{\"fencing\":" + (MaintenanceLock.MAX_FENCING - 1)
                + ",\"lock\":null}");
        assertEquals(MaintenanceLock.MAX_FENCING, newLock().acquire("a", null, 60L, "ci").fencing());
    }

    @Test
    void loadedTextsObeyTheBoundsOfApiInputAndABadFileNamesItsLastGoodCopy() throws Exception {
        MaintenanceLock first = newLock();
        first.release(first.acquire("a", null, 60L, "ci").token(), "ci");
        Path previous = state.resolve(MaintenanceLock.FILE + ".prev");
        assertTrue(Files.isRegularFile(previous), "each successful save keeps a copy beside the file");
        for (String holder : new String[]{"x".repeat(10_000), "evil\u0007holder", ""}) {
            writeLockFile(3, holder, Instant.now().plusSeconds(60), 60);
            InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class, this::newLock);
            assertTrue(refused.getMessage().contains("lock.json cannot be trusted"), refused.getMessage());
            assertTrue(refused.getMessage().contains(previous.toString()), refused.getMessage());
        }
        for (String shape : new String[]{"", "{}", "null", "[]", "\u0000\u0000\u0000"}) {
            Files.writeString(state.resolve(MaintenanceLock.FILE), shape);
            InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class, this::newLock,
                    "shape " + shape);
            assertTrue(refused.getMessage().contains(previous.toString()), refused.getMessage());
        }
    }

    @Test
    void ttlBoundsThatContradictEachOtherStopTheStart() {
        assertThrows(InvalidConfigurationException.class, () -> new FileMaintenanceLock(state, audit, noWebhooks, vertx,
                MAPPER, Duration.ofHours(2), Duration.ofHours(1)));
    }
}

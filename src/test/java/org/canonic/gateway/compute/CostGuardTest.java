package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.coordination.StateDirectory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.atomic.AtomicInteger;

import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cost tiers, the daily cap and its atomic reservation. */
class CostGuardTest {

    private final AtomicInteger ids = new AtomicInteger();

    private CostGuard guard() {
        try {
            return new CostGuard(new FileSpendLedger(new StateDirectory(Files.createTempDirectory("spend")),
                    new ObjectMapper()), 5, 20, 20, Clock.systemUTC());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private CostGuard.Admission admit(CostGuard guard, long cents, Double confirmed) {
        return guard.admit("mg-chat-gw-" + ids.incrementAndGet(), cents, confirmed, "$" + CostGuard.usd(cents));
    }

    @Test
    void tiersAndConfirmation() {
        CostGuard guard = guard();
        CostGuard.Admission auto = admit(guard, 499, null);
        assertEquals(CostGuard.Tier.AUTO, auto.tier());
        assertNull(auto.warning());
        assertEquals(499, auto.reservation().cents(), "under $5 needs no warning but still counts against the cap");
        CostGuard.Admission warn = admit(guard, 1200, null);
        assertEquals(CostGuard.Tier.WARN, warn.tier());
        assertNotNull(warn.warning());
        assertEquals(1699, guard.ledger().committed(guard.today()));

        ComputeException over = assertThrows(ComputeException.class, () -> admit(guard, 2001, null));
        assertEquals(402, over.status());
        assertEquals(20.01, over.details().path("estimate_usd").asDouble());
        assertThrows(ComputeException.class, () -> admit(guard, 2001, 20.00), "a different number");
        assertEquals(CostGuard.Tier.CONFIRMED, admit(guard, 2001, 20.01).tier());
        assertEquals(409, assertThrows(ComputeException.class, () -> admit(guard, 100, null)).status(),
                "over the cap, even a small automatic launch needs the confirmation");
        assertEquals(CostGuard.Tier.CONFIRMED, admit(guard, 100, 1.00).tier());

        ComputeException cap = assertThrows(ComputeException.class, () -> admit(guard, 900, null));
        assertEquals(409, cap.status());
        assertEquals("daily_cap_exceeded", cap.code());
    }

    @Test
    void aPreviewSaysWhatAdmissionWouldAndReservesNothing() {
        CostGuard guard = guard();
        assertEquals("auto", guard.preview(499).path("tier").asText());
        assertEquals("warn", guard.preview(1200).path("tier").asText());
        assertEquals("needs_confirmation", guard.preview(2001).path("tier").asText());
        assertTrue(guard.preview(2001).path("confirmation_needed").asBoolean());
        assertEquals(0, guard.ledger().committed(guard.today()), "previews reserve nothing");
        admit(guard, 1500, null);
        // A warn-tier estimate that no longer fits the day's cap needs the confirmation admission would ask for.
        assertEquals("over_cap", guard.preview(600).path("tier").asText());
        assertEquals(409, assertThrows(ComputeException.class, () -> admit(guard, 600, null)).status());
        assertEquals("warn", guard.preview(500).path("tier").asText());
        assertEquals(15.0, guard.preview(500).path("committed_today_usd").asDouble());
    }

    @Test
    void withTheCapFullParallelAutomaticLaunchesAreAllRefused() throws Exception {
        CostGuard guard = guard();
        admit(guard, 2000, null);
        assertEquals("over_cap", guard.preview(475).path("tier").asText());
        ExecutorService pool = Executors.newFixedThreadPool(20);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            results.add(pool.submit(() -> {
                go.await();
                try {
                    admit(guard, 475, null);
                    return true;
                } catch (ComputeException e) {
                    return false;
                }
            }));
        }
        go.countDown();
        for (Future<Boolean> result : results) {
            assertEquals(false, result.get(), "a $4.75 launch is automatic, but not free");
        }
        pool.shutdown();
        assertEquals(2000, guard.ledger().committed(guard.today()));
    }

    @Test
    void theSpendLedgerSurvivesARestartAndSettlesByInstance() throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory("spend");
        FileSpendLedger before = new FileSpendLedger(new StateDirectory(dir), new ObjectMapper());
        java.time.LocalDate day = java.time.LocalDate.of(2026, 11, 22);
        before.reserveOver("mg-chat-gw-00000001", day, 1500);
        before.reserve("mg-chat-gw-00000002", day, 500, 2000).orElseThrow();
        FileSpendLedger after = new FileSpendLedger(new StateDirectory(dir), new ObjectMapper());
        assertEquals(2000, after.committed(day), "a restart does not give the day's cap back");
        SpendLedger.Reservation open = after.open("mg-chat-gw-00000001").orElseThrow();
        after.settle(open, 120);
        after.settle(open, 120);
        assertEquals(620, after.committed(day), "settled once, by the instance's name");
        assertTrue(after.open("mg-chat-gw-00000001").isEmpty());
        assertEquals(620, new FileSpendLedger(new StateDirectory(dir), new ObjectMapper()).committed(day));
        java.nio.file.Files.writeString(dir.resolve(FileSpendLedger.FILE), "{\"days\":");
        assertThrows(org.canonic.gateway.config.InvalidConfigurationException.class,
                () -> new FileSpendLedger(new StateDirectory(dir), new ObjectMapper()), "never $0 on a torn file");
        for (String shape : new String[]{"", "{}", "null", "[]", "\u0000\u0000", "{\"days\":[],\"open\":{}}",
                "{\"days\":{\"2026-11-22\":\"lots\"},\"open\":{}}"}) {
            java.nio.file.Files.writeString(dir.resolve(FileSpendLedger.FILE), shape);
            var refused = assertThrows(org.canonic.gateway.config.InvalidConfigurationException.class,
                    () -> new FileSpendLedger(new StateDirectory(dir), new ObjectMapper()), "never $0: " + shape);
            assertTrue(refused.getMessage().contains(dir.resolve(FileSpendLedger.FILE + ".prev").toString()),
                    refused.getMessage());
        }
    }

    @Test
    void settlingReplacesTheEstimateWithWhatWasSpent() {
        CostGuard guard = guard();
        CostGuard.Admission warn = admit(guard, 1500, null);
        guard.ledger().settle(warn.reservation(), 300);
        assertEquals(300, guard.ledger().committed(guard.today()));
        assertEquals(CostGuard.Tier.WARN, admit(guard, 1500, null).tier(), "the freed dollars are usable");
    }

    @Test
    void twoLaunchesRacingForTheLastDollarsOfTheCapOnlyOnePasses() throws Exception {
        for (int round = 0; round < 50; round++) {
            CostGuard guard = guard();
            admit(guard, 800, null);
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    try {
                        admit(guard, 1000, null);
                        return true;
                    } catch (ComputeException e) {
                        return false;
                    }
                }));
            }
            go.countDown();
            int passed = 0;
            for (Future<Boolean> result : results) {
                passed += result.get() ? 1 : 0;
            }
            pool.shutdown();
            assertEquals(1, passed, "round " + round);
            assertTrue(guard.ledger().committed(guard.today()) <= 2000);
        }
    }

    @Test
    void estimatesRoundUpToCents() {
        assertEquals(81, CostGuard.cents(0.8001));
        assertEquals("0.81", CostGuard.usd(81));
    }
}

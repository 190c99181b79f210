package org.canonic.gateway.compute;

import org.junit.jupiter.api.Test;

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

    private CostGuard guard() {
        return new CostGuard(new InProcessSpendLedger(), 5, 20, 20, Clock.systemUTC());
    }

    @Test
    void tiersAndConfirmation() {
        CostGuard guard = guard();
        CostGuard.Admission auto = guard.admit(499, null, "$4.99");
        assertEquals(CostGuard.Tier.AUTO, auto.tier());
        assertNull(auto.reservation(), "under $5 does not count against the cap");
        CostGuard.Admission warn = guard.admit(1200, null, "$12.00");
        assertEquals(CostGuard.Tier.WARN, warn.tier());
        assertNotNull(warn.warning());
        assertEquals(1200, guard.ledger().committed(guard.today()));

        ComputeException over = assertThrows(ComputeException.class, () -> guard.admit(2001, null, "$20.01"));
        assertEquals(402, over.status());
        assertEquals(20.01, over.details().path("estimate_usd").asDouble());
        assertThrows(ComputeException.class, () -> guard.admit(2001, 20.00, "$20.01"), "a different number");
        assertEquals(CostGuard.Tier.CONFIRMED, guard.admit(2001, 20.01, "$20.01").tier());

        ComputeException cap = assertThrows(ComputeException.class, () -> guard.admit(900, null, "$9.00"));
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
        guard.admit(1500, null, "$15.00");
        // A warn-tier estimate that no longer fits the day's cap needs the confirmation admission would ask for.
        assertEquals("over_cap", guard.preview(600).path("tier").asText());
        assertEquals(409, assertThrows(ComputeException.class, () -> guard.admit(600, null, "$6.00")).status());
        assertEquals("warn", guard.preview(500).path("tier").asText());
        assertEquals(15.0, guard.preview(500).path("committed_today_usd").asDouble());
    }

    @Test
    void settlingReplacesTheEstimateWithWhatWasSpent() {
        CostGuard guard = guard();
        CostGuard.Admission warn = guard.admit(1500, null, "$15.00");
        guard.ledger().settle(warn.reservation(), 300);
        assertEquals(300, guard.ledger().committed(guard.today()));
        assertEquals(CostGuard.Tier.WARN, guard.admit(1500, null, "$15.00").tier(), "the freed dollars are usable");
    }

    @Test
    void twoLaunchesRacingForTheLastDollarsOfTheCapOnlyOnePasses() throws Exception {
        for (int round = 0; round < 50; round++) {
            CostGuard guard = guard();
            guard.admit(800, null, "$8.00");
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    try {
                        guard.admit(1000, null, "$10.00");
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

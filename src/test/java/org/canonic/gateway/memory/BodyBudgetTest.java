package org.canonic.gateway.memory;

import org.canonic.gateway.config.BodyBudgetSetting;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BodyBudgetTest {

    @Test
    void eachHolderGetsAShareAndGivesItBackWithItsLeases() {
        BodyBudget budget = new BodyBudget(100, 40);
        BodyBudget.Lease a1 = budget.lease("key:a");
        BodyBudget.Lease a2 = budget.lease("key:a");
        BodyBudget.Lease b = budget.lease("key:b");
        assertTrue(a1.tryGrow(30));
        assertFalse(a2.tryGrow(11), "a's leases together hold at most its share");
        assertTrue(a2.shareFull(), "refused for the share, not the budget");
        assertFalse(a2.fits(11));
        assertTrue(b.tryGrow(40), "another holder has its own share");
        assertEquals(70, budget.used(), "a refusal holds nothing");
        a1.release();
        assertTrue(a2.tryGrow(40), "released bytes return to the holder's share");
        assertTrue(budget.lease().tryGrow(20), "an answer counts against the budget only");
        assertFalse(budget.lease("key:c").tryGrow(1), "and the budget still bounds everyone");
        a2.release();
        b.release();
        assertEquals(20, budget.used());
    }

    @Test
    void leasesGrowWithinTheLimitAndGiveEverythingBackOnce() {
        BodyBudget budget = new BodyBudget(100);
        BodyBudget.Lease first = budget.lease();
        BodyBudget.Lease second = budget.lease();
        assertTrue(first.tryGrow(60));
        assertFalse(second.tryGrow(41), "the budget is shared");
        assertEquals(60, budget.used(), "a refused reservation holds nothing");
        assertTrue(second.tryGrow(40));
        assertFalse(budget.fits(1));
        first.release();
        first.release();
        assertEquals(40, budget.used(), "released once, however often asked");
        second.release();
        assertEquals(0, budget.used());
    }

    @Test
    void handingOverMovesTheBytesWithoutCountingThemTwice() {
        BodyBudget budget = new BodyBudget(100);
        BodyBudget.Lease collected = budget.lease();
        assertTrue(collected.tryGrow(70));
        BodyBudget.Lease queued = collected.handOver();
        collected.release();
        assertEquals(70, budget.used(), "the bytes still wait to be written");
        queued.release();
        assertEquals(0, budget.used());
    }

    @Test
    void theSettingIsAShareOfTheHeapOrASize() {
        long heap = 512L * 1024 * 1024;
        assertEquals(128L * 1024 * 1024, BodyBudgetSetting.bytes("25%", heap));
        assertEquals(64L * 1024 * 1024, BodyBudgetSetting.bytes("64M", heap));
        for (String invalid : new String[] {"0%", "95%", "lots", "-5M", ""}) {
            assertThrows(IllegalArgumentException.class, () -> BodyBudgetSetting.bytes(invalid, heap), invalid);
        }
    }
}

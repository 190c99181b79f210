package org.canonic.gateway.usage;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cost split of a rented instance among its users, and the TTFT percentiles read from the aggregate. */
class UsageCostTest {

    private static final long DAY_MS = 86_400_000L;
    private static final long HOUR_MS = 3_600_000L;
    private static final String INSTANCE = "mg-main-gw-1a2b3c4d";
    private static final UsagePricing PRICING = new UsagePricing(4, Map.of());

    private static UsageEvent event(long at, String key, long input, long output, double ttftMs) {
        return new UsageEvent(at, key, "main", INSTANCE, "main-model", "completed", input, output, ttftMs);
    }

    @Test
    void theSharesOfThreeKeysAddUpToTheInstancesSpendToTheCent() {
        long day = System.currentTimeMillis() / DAY_MS * DAY_MS;
        UsageBook book = new UsageBook(7 * DAY_MS);
        // weighted tokens 1000 + 4 x 100 = 1400, 333 + 4 x 7 = 361, 1 + 4 x 0 = 1: shares that do not divide evenly
        book.add(event(day + HOUR_MS, "a", 1000, 100, 100));
        book.add(event(day + HOUR_MS, "b", 333, 7, 100));
        book.add(event(day + 2 * HOUR_MS, "c", 1, 0, 100));
        double spend = 12.345678; // $/h x hours, as compute bills it
        UsagePricing.InstanceSpend instance = (backend, from, to) -> backend.equals(INSTANCE)
                ? OptionalDouble.of(spend) : OptionalDouble.empty();
        UsageReport report = UsageReport.build(book, day, day + DAY_MS, GroupBy.KEY, PRICING, instance, null);
        long cents = report.rows().stream().mapToLong(r -> r.instanceCents).sum();
        assertEquals(1235, cents, "the shares add up to the spend, to the cent");
        assertEquals(1235, report.total().instanceCents);
        assertEquals(List.of(new UsageReport.InstanceCost(INSTANCE, 1235, 1235)), report.instances());
        double[] weights = {1400, 361, 1};
        for (int i = 0; i < 3; i++) {
            double exact = 1235 * weights[i] / 1762;
            assertTrue(Math.abs(report.rows().get(i).instanceCents - exact) < 1, "within a cent of its share");
        }
        // one key's view: its share, computed among everyone's usage
        UsageReport onlyB = UsageReport.build(book, day, day + DAY_MS, GroupBy.KEY, PRICING, instance, "b");
        assertEquals(report.rows().get(1).instanceCents, onlyB.total().instanceCents);
        assertEquals(1, onlyB.rows().size());
    }

    @Test
    void byDayEachDaysSpendIsSharedByThatDaysUsersAndAnIdleDayIsUnattributed() {
        long today = System.currentTimeMillis() / DAY_MS * DAY_MS;
        long yesterday = today - DAY_MS;
        UsageBook book = new UsageBook(7 * DAY_MS);
        book.add(event(yesterday + HOUR_MS, "a", 500, 50, 100));
        book.add(event(today + HOUR_MS, "b", 300, 30, 100));
        book.add(event(today + HOUR_MS, "a", 100, 10, 100));
        // $1/h, running from yesterday 00:00 to today 12:00, and an idle day before that is outside the period
        UsagePricing.InstanceSpend instance = (backend, from, to) -> OptionalDouble.of(
                Math.max(0, Math.min(to, today + 12 * HOUR_MS) - Math.max(from, yesterday)) / (double) HOUR_MS);
        UsageReport byDay = UsageReport.build(book, yesterday, today + DAY_MS, GroupBy.DAY, PRICING, instance,
                null);
        assertEquals(2400, byDay.rows().get(0).instanceCents, "yesterday: 24 h at $1");
        assertEquals(1200, byDay.rows().get(1).instanceCents, "today: 12 h at $1");
        UsageReport byKey = UsageReport.build(book, yesterday, today + DAY_MS, GroupBy.KEY, PRICING, instance,
                null);
        assertEquals(3600, byKey.total().instanceCents);

        UsageBook idle = new UsageBook(7 * DAY_MS);
        idle.add(new UsageEvent(today + HOUR_MS, "a", "main", INSTANCE, "m", "failed", 0, 0, -1));
        UsageReport unused = UsageReport.build(idle, today, today + DAY_MS, GroupBy.KEY, PRICING, instance, null);
        assertEquals(0, unused.total().instanceCents);
        assertEquals(new UsageReport.InstanceCost(INSTANCE, 1200, 0), unused.instances().get(0));
    }

    @Test
    void ttftPercentilesComeFromTheSummedHistograms() {
        TtftHistogram histogram = new TtftHistogram();
        for (int i = 1; i <= 100; i++) {
            histogram.add(i * 10); // 10 .. 1000 ms, uniform
        }
        assertEquals(500, histogram.quantile(0.5), 25, "p50 within its bucket's width");
        assertEquals(900, histogram.quantile(0.9), 100, "p90 within its bucket's width");
        assertEquals(-1, new TtftHistogram().quantile(0.5));
        TtftHistogram slow = new TtftHistogram();
        slow.add(500_000);
        assertEquals(120_000, slow.quantile(0.5), "beyond the last bound: the last bound");
    }

    @Test
    void csvCellsCannotBecomeSpreadsheetFormulas() {
        assertEquals("'=cmd()", UsageRendering.quote("=cmd()"));
        assertEquals("\"a,b\"", UsageRendering.quote("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", UsageRendering.quote("say \"hi\""));
    }
}

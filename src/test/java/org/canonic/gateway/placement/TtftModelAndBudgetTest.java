package org.canonic.gateway.placement;

import org.canonic.gateway.fleet.TtftModel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-backend TTFT model learns prefill cost per token; the hedge budget holds its share. */
class TtftModelAndBudgetTest {

    @Test
    void theModelLearnsBaseAndPrefillCostFromFirstTokens() {
        TtftModel model = new TtftModel(4000, 0.98);
        assertEquals(250_000, model.fit().nanosPerToken(), 1, "the prior: 4000 tokens/s");
        // A backend with 30 ms of base and 81 us per prefilled token (Qwen2.5-7B on an A100), with some noise.
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 200; i++) {
            long tokens = 100 + random.nextInt(12_000);
            long nanos = 30_000_000L + tokens * 81_000L + random.nextInt(5_000_000);
            model.sample(tokens, nanos);
        }
        TtftModel.Fit fit = model.fit();
        assertEquals(81_000, fit.nanosPerToken(), 3_000, fit.toString());
        assertEquals(32_500_000, fit.baseNanos(), 6_000_000, fit.toString());
        assertEquals(30_000_000 + 10_000 * 81_000, fit.predictNanos(10_000), 20_000_000, fit.toString());
    }

    @Test
    void lateMeansBeyondTheTailTheBackendReallyHas() {
        TtftModel model = new TtftModel(4000, 0.98);
        assertEquals(4, model.fit().lateRatio(), 1e-9, "before samples: 4 x the prediction");
        java.util.Random random = new java.util.Random(11);
        // Mostly on time, one in ten 2-3x late (behind another prompt's prefill): late is past that tail, not at it.
        for (int i = 0; i < 400; i++) {
            long tokens = 1000 + random.nextInt(10_000);
            double factor = i % 10 == 0 ? 2 + random.nextDouble() : 0.9 + 0.2 * random.nextDouble();
            model.sample(tokens, (long) (factor * (20_000_000L + tokens * 80_000L)));
        }
        double late = model.fit().lateRatio();
        assertTrue(late >= 2.0 && late <= 4.0, "the 98th percentile lies in the 2-3x tail: " + late);

        TtftModel steady = new TtftModel(4000, 0.98);
        for (int i = 0; i < 400; i++) {
            long tokens = 1000 + random.nextInt(10_000);
            steady.sample(tokens, (long) ((0.95 + 0.1 * random.nextDouble()) * (20_000_000L + tokens * 80_000L)));
        }
        assertTrue(steady.fit().lateRatio() < 1.6, "a backend that keeps its time is late sooner: "
                + steady.fit().lateRatio());
    }

    @Test
    void promptsOfOneSizeTeachNoSlope() {
        TtftModel model = new TtftModel(4000, 0.98);
        for (int i = 0; i < 50; i++) {
            model.sample(500, 90_000_000);
        }
        assertEquals(250_000, model.fit().nanosPerToken(), 1, "no spread in sizes: the prior stays");
    }

    @Test
    void hedgesStayWithinTheirShareOfTheLastMinutesRequests() {
        HedgeBudget budget = new HedgeBudget(0.1);
        for (int i = 0; i < 9; i++) {
            budget.request();
        }
        assertFalse(budget.tryTake(), "9 requests do not make room for one hedge at 10 %");
        budget.request();
        assertTrue(budget.tryTake());
        assertFalse(budget.tryTake(), "one hedge per ten requests");
        for (int i = 0; i < 30; i++) {
            budget.request();
        }
        int taken = 0;
        while (budget.tryTake()) {
            taken++;
        }
        assertEquals(3, taken, "40 requests: 4 hedges in all");
        assertFalse(new HedgeBudget(0).tryTake());
    }
}

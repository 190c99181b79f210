package org.canonic.gateway.simulator;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scheduler's decisions and the step cost, step by step, without threads or clocks. */
class BatchSchedulerTest {

    /** Records what a sequence was given, as a connection would receive it. */
    static final class Recorded implements TokenSink {
        final List<Integer> tokens = new ArrayList<>();
        int finished;

        @Override
        public void emit(int token, boolean done) {
            if (token >= 0) {
                tokens.add(token);
            }
            if (done) {
                finished++;
            }
        }
    }

    private static Sequence sequence(String prompt, int answerTokens, Recorded sink) {
        return new Sequence(new SequenceText(prompt, "a".repeat(answerTokens * 4)), sink);
    }

    private static String chars(char c, int count) {
        return String.valueOf(c).repeat(count);
    }

    /** Runs one step and hands its emissions to the sinks, as the engine thread does. */
    private static BatchScheduler.Step step(BatchScheduler scheduler) {
        BatchScheduler.Step step = scheduler.plan();
        scheduler.complete(step).forEach(e -> e.sequence().sink.emit(e.token(), e.finished()));
        return step;
    }

    private static int runToEnd(BatchScheduler scheduler) {
        int steps = 0;
        while (!scheduler.idle()) {
            assertTrue(++steps < 10_000, "the scheduler makes progress");
            step(scheduler);
        }
        return steps;
    }

    @Test
    void aStepCostsItsBaseAndItsPrefillAndDecodeTokensTimesTheSpeedFactor() {
        StepCost cost = StepCost.QWEN_7B_A100;
        assertEquals(10_041_700, cost.nanos(0, 0));
        assertEquals(91_161_700, cost.nanos(1000, 0));
        assertEquals(11_961_380, cost.nanos(0, 32));
        assertEquals(37_507_200, cost.withSpeedFactor(2).nanos(100, 10));
    }

    @Test
    void runningDecodesComeFirstAndANewPromptIsPrefilledInChunksOfWhatTheBudgetLeaves() {
        BatchScheduler scheduler = new BatchScheduler(10_000, 256, 8192);
        Recorded a = new Recorded();
        Recorded b = new Recorded();
        Recorded c = new Recorded();
        scheduler.add(sequence(chars('a', 40), 100, a));
        scheduler.add(sequence(chars('b', 40), 100, b));
        BatchScheduler.Step first = step(scheduler);
        assertEquals(20, first.prefillTokens(), "both 10-token prompts in one step");
        assertEquals(0, first.decodeTokens());
        assertEquals(List.of(0), a.tokens, "the first token comes at the end of the prompt's last chunk");
        assertEquals(List.of(0), b.tokens);

        scheduler.add(sequence(chars('c', 40_000), 5, c));
        BatchScheduler.Step second = step(scheduler);
        assertEquals(2, second.decodeTokens());
        assertEquals(8190, second.prefillTokens(), "the 10k-token prompt gets what the decodes left of 8192");
        assertEquals(List.of(), c.tokens, "no token before the prompt is fully prefilled");
        BatchScheduler.Step third = step(scheduler);
        assertEquals(2, third.decodeTokens());
        assertEquals(1810, third.prefillTokens());
        assertEquals(List.of(0), c.tokens);
        assertEquals(List.of(0, 1, 2), a.tokens);
    }

    @Test
    void aFullBatchLeavesTheRestWaitingInArrivalOrder() {
        BatchScheduler scheduler = new BatchScheduler(10_000, 2, 8192);
        Recorded[] sinks = {new Recorded(), new Recorded(), new Recorded()};
        for (int i = 0; i < 3; i++) {
            scheduler.add(sequence(chars((char) ('a' + i), 40), 3 + i, sinks[i]));
        }
        step(scheduler);
        assertEquals(2, scheduler.stats().running());
        assertEquals(1, scheduler.stats().waiting());
        assertEquals(List.of(), sinks[2].tokens);
        runToEnd(scheduler);
        for (Recorded sink : sinks) {
            assertEquals(1, sink.finished);
        }
        assertEquals(3, scheduler.stats().requestSuccesses());
        assertEquals(3 + 4 + 5, scheduler.stats().generationTokens());
    }

    @Test
    void aRepeatedPromptIsServedFromThePrefixCacheButItsLastToken() {
        BatchScheduler scheduler = new BatchScheduler(1000, 256, 8192);
        String prompt = chars('p', 1024); // 256 tokens, exactly 16 full blocks
        scheduler.add(sequence(prompt, 3, new Recorded()));
        runToEnd(scheduler);
        assertEquals(256, scheduler.stats().prefixCacheQueries());
        assertEquals(0, scheduler.stats().prefixCacheHits());

        scheduler.add(sequence(prompt, 3, new Recorded()));
        BatchScheduler.Step again = step(scheduler);
        assertEquals(240, scheduler.stats().prefixCacheHits(), "15 blocks: the last token is always computed");
        assertEquals(16, again.prefillTokens(), "only the last block is prefilled again");
        assertEquals(512, scheduler.stats().prefixCacheQueries());
    }

    @Test
    void aNextTurnFindsThePreviousPromptAndAnswerCached() {
        BatchScheduler scheduler = new BatchScheduler(1000, 256, 8192);
        String prompt = chars('p', 500);
        String answer = chars('g', 1000);
        scheduler.add(new Sequence(new SequenceText(prompt, answer), new Recorded()));
        runToEnd(scheduler);
        String next = prompt + answer + "<|im_end|>\n<|im_start|>user\nand then?<|im_end|>\n<|im_start|>assistant\n";
        Sequence turn = new Sequence(new SequenceText(next, "ok"), new Recorded());
        scheduler.add(turn);
        step(scheduler);
        long hits = scheduler.stats().prefixCacheHits();
        // The answer's last token was sampled but never computed, so the cache ends one token short of it.
        assertEquals((prompt.length() + answer.length() - 4) / 64 * 16, hits);
        assertTrue(hits > SequenceText.tokens(prompt), "the answer's blocks were cached too: " + hits);
    }

    @Test
    void whenDecodesRunOutOfBlocksTheLatestAdmittedIsPreemptedAndRecomputedLater() {
        BatchScheduler scheduler = new BatchScheduler(10, 256, 8192);
        Recorded first = new Recorded();
        Recorded second = new Recorded();
        // Each needs 6 blocks at its end (128 + 240 characters); both prompts fit at once, both answers do not.
        scheduler.add(sequence(chars('a', 128), 60, first));
        scheduler.add(sequence(chars('b', 128), 60, second));
        runToEnd(scheduler);
        assertTrue(scheduler.stats().preemptions() >= 1, "a preemption happened: " + scheduler.stats());
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            all.add(i);
        }
        assertEquals(all, first.tokens, "every token once, in order");
        assertEquals(all, second.tokens, "the preempted request resumed where it was");
        assertEquals(1, first.finished);
        assertEquals(1, second.finished);
        assertEquals(0, scheduler.stats().blocksInUse());
    }

    @Test
    void aPromptThatFindsTooFewFreeBlocksWaitsUntilTheyAreFreed() {
        BatchScheduler scheduler = new BatchScheduler(20, 256, 8192);
        Recorded first = new Recorded();
        Recorded second = new Recorded();
        scheduler.add(sequence(chars('a', 64 * 12), 4, first));
        scheduler.add(sequence(chars('b', 64 * 12), 4, second));
        step(scheduler);
        assertEquals(1, scheduler.stats().running());
        assertEquals(1, scheduler.stats().waiting(), "13 + 13 blocks do not fit in 20");
        runToEnd(scheduler);
        assertEquals(1, second.finished);
    }

    @Test
    void anAbortedRequestLeavesAtOnceAndItsBlocksStayCached() {
        BatchScheduler scheduler = new BatchScheduler(100, 256, 8192);
        String prompt = chars('x', 640);
        Sequence aborted = sequence(prompt, 50, new Recorded());
        scheduler.add(aborted);
        step(scheduler);
        assertEquals(1, scheduler.stats().running());
        scheduler.abort(aborted);
        assertEquals(0, scheduler.stats().running());
        assertEquals(0, scheduler.stats().blocksInUse());
        assertTrue(scheduler.idle());
        scheduler.add(sequence(prompt, 1, new Recorded()));
        step(scheduler);
        assertEquals(144, scheduler.stats().prefixCacheHits(), "9 of its 10 blocks (the last token is recomputed)");
    }

    @Test
    void freedBlocksAreReusedLeastRecentlyFreedFirstAndLeaveTheIndexWhenReused() {
        KvBlockPool pool = new KvBlockPool(4);
        KvBlockPool.Block a = pool.allocate();
        KvBlockPool.Block b = pool.allocate();
        pool.index(a, 1L);
        pool.index(b, 2L);
        pool.release(List.of(a, b));
        assertEquals(4, pool.free());
        assertSame(a, pool.cached(1L), "a free block keeps its content");
        pool.hold(a);
        assertEquals(3, pool.free(), "a held cached block is no longer free");
        pool.release(List.of(a));
        // Free order now: the two never used, b (freed first: a request frees its last block first), then a.
        pool.allocate();
        pool.allocate();
        KvBlockPool.Block third = pool.allocate();
        assertSame(b, third);
        assertNull(pool.cached(2L), "b's old content was evicted");
        assertSame(a, pool.cached(1L), "the most recently freed block is evicted last");
        assertEquals(1, pool.free());
    }
}

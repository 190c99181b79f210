package org.canonic.gateway.simulator;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * vLLM's scheduler for one GPU, without the clock: continuous batching with chunked prefill. Each step gets a token
 * budget; requests already running come first (a decode takes one token, a prefill what is left of its prompt up to
 * the budget), then waiting requests are admitted in arrival order while there is room in the batch, KV blocks for
 * their uncached part and budget. {@link #plan} decides a step, {@link #complete} applies it once its time has
 * passed; the caller owns the clock. Not thread-safe: one engine thread drives it.
 */
final class BatchScheduler {

    /** Tokens of one sequence computed in one step: a prefill chunk, or 1 for a decode. */
    record Work(Sequence sequence, int tokens) {
    }

    record Step(List<Work> work, int prefillTokens, int decodeTokens) {
    }

    /** What one step produced for one sequence; see {@link TokenSink#emit}. */
    record Emission(Sequence sequence, int token, boolean finished) {
    }

    private final KvBlockPool pool;
    private final int maxNumSeqs;
    private final int maxBatchedTokens;
    private final ArrayDeque<Sequence> waiting = new ArrayDeque<>();
    /** In admission order, so the last one is the one a preemption takes. */
    private final List<Sequence> running = new ArrayList<>();
    private boolean preemptedInPlan;
    private long prefixQueries;
    private long prefixHits;
    private long promptTokens;
    private long generationTokens;
    private long successes;
    private long preemptions;

    BatchScheduler(int kvBlocks, int maxNumSeqs, int maxBatchedTokens) {
        this.pool = new KvBlockPool(kvBlocks);
        this.maxNumSeqs = maxNumSeqs;
        this.maxBatchedTokens = maxBatchedTokens;
    }

    void add(Sequence sequence) {
        waiting.addLast(sequence);
    }

    /** Takes a request out at once, wherever it is; its blocks stay cached for whoever shares their prefix. */
    void abort(Sequence sequence) {
        if (sequence.state == Sequence.State.WAITING) {
            waiting.remove(sequence);
        } else if (sequence.state == Sequence.State.RUNNING) {
            running.remove(sequence);
            releaseBlocks(sequence);
        } else {
            return;
        }
        sequence.state = Sequence.State.ABORTED;
    }

    boolean idle() {
        return running.isEmpty() && waiting.isEmpty();
    }

    Step plan() {
        int budget = maxBatchedTokens;
        int prefill = 0;
        int decode = 0;
        List<Work> work = new ArrayList<>();
        preemptedInPlan = false;
        for (int i = 0; i < running.size() && budget > 0; i++) {
            Sequence sequence = running.get(i);
            if (sequence.prefilling()) {
                int chunk = Math.min(sequence.prefillLeft(), budget);
                work.add(new Work(sequence, chunk));
                prefill += chunk;
                budget -= chunk;
                indexFullBlocks(sequence, sequence.computed + chunk);
            } else if (roomForNextToken(sequence)) {
                work.add(new Work(sequence, 1));
                decode++;
                budget--;
                indexFullBlocks(sequence, sequence.computed + 1);
            } else {
                break;
            }
        }
        // As in vLLM, a step that had to preempt admits nobody: the preempted request is first in line again.
        while (!preemptedInPlan && budget > 0 && running.size() < maxNumSeqs && !waiting.isEmpty()
                && admit(waiting.peekFirst())) {
            Sequence sequence = waiting.pollFirst();
            int chunk = Math.min(sequence.prefillLeft(), budget);
            work.add(new Work(sequence, chunk));
            prefill += chunk;
            budget -= chunk;
            indexFullBlocks(sequence, sequence.computed + chunk);
        }
        return new Step(work, prefill, decode);
    }

    /**
     * Applies a step whose time has passed: a request that finished its prefill samples its first token (or, after a
     * preemption, its next one) at the end of its last chunk, and each decode samples one. Requests aborted during the
     * step are skipped.
     */
    List<Emission> complete(Step step) {
        List<Emission> emissions = new ArrayList<>(step.work().size());
        for (Work work : step.work()) {
            Sequence sequence = work.sequence();
            if (sequence.state != Sequence.State.RUNNING) {
                continue;
            }
            sequence.computed += work.tokens();
            if (sequence.computed < sequence.target) {
                continue;
            }
            sequence.decoding = true;
            if (!sequence.promptCounted) {
                sequence.promptCounted = true;
                promptTokens += sequence.promptTokens();
            }
            int token = -1;
            if (sequence.generated < sequence.outputTokens) {
                token = sequence.generated++;
                generationTokens++;
            }
            boolean finished = sequence.generated >= sequence.outputTokens;
            if (finished) {
                running.remove(sequence);
                releaseBlocks(sequence);
                sequence.state = Sequence.State.FINISHED;
                successes++;
            }
            emissions.add(new Emission(sequence, token, finished));
        }
        return emissions;
    }

    EngineStats stats() {
        return new EngineStats(running.size(), waiting.size(), pool.inUse(), pool.capacity(), prefixQueries,
                prefixHits, promptTokens, generationTokens, successes, preemptions);
    }

    /**
     * Admits a waiting request if the blocks for its uncached part can be had: its longest cached prefix is reused
     * (held, not prefilled again) and the rest comes from the free blocks, evicting the least recently freed.
     */
    private boolean admit(Sequence sequence) {
        SequenceText text = sequence.text;
        int target = sequence.promptTokens() + sequence.generated;
        List<KvBlockPool.Block> hits = new ArrayList<>();
        int full = text.fullBlocksAt(target);
        for (int b = 0; b < full; b++) {
            KvBlockPool.Block block = pool.cached(text.blockHash(b));
            if (block == null) {
                break;
            }
            hits.add(block);
        }
        // The last token is always computed, so that there is something to sample from (vLLM caps hits alike).
        while (!hits.isEmpty() && text.tokensWithin(hits.size() * SequenceText.BLOCK_CHARS) > target - 1) {
            hits.remove(hits.size() - 1);
        }
        int fresh = text.blocksFor(target) - hits.size();
        int freeHits = (int) hits.stream().filter(KvBlockPool.Block::free).count();
        if (pool.free() - freeHits < fresh) {
            return false;
        }
        hits.forEach(pool::hold);
        sequence.blocks.addAll(hits);
        for (int i = 0; i < fresh; i++) {
            sequence.blocks.add(pool.allocate());
        }
        sequence.indexed = hits.size();
        int cached = text.tokensWithin(hits.size() * SequenceText.BLOCK_CHARS);
        sequence.computed = cached;
        sequence.target = target;
        sequence.decoding = false;
        sequence.state = Sequence.State.RUNNING;
        prefixQueries += target;
        prefixHits += cached;
        running.add(sequence);
        return true;
    }

    /**
     * Finds a block for the token a decode is about to compute, when it starts a new one. With none free, the most
     * recently admitted running request is preempted (vLLM's recompute preemption), until one is free or the request
     * itself was the one preempted: then false.
     */
    private boolean roomForNextToken(Sequence sequence) {
        int missing = sequence.text.blocksFor(sequence.computed + 1) - sequence.blocks.size();
        while (missing > pool.free()) {
            Sequence victim = running.get(running.size() - 1);
            preempt(victim);
            if (victim == sequence) {
                return false;
            }
        }
        for (int i = 0; i < missing; i++) {
            sequence.blocks.add(pool.allocate());
        }
        return true;
    }

    private void preempt(Sequence victim) {
        running.remove(victim);
        releaseBlocks(victim);
        victim.state = Sequence.State.WAITING;
        victim.decoding = false;
        victim.computed = 0;
        waiting.addFirst(victim);
        preemptions++;
        preemptedInPlan = true;
    }

    /** Full blocks are indexed as soon as a step that fills them is scheduled, as vLLM caches them at allocation. */
    private void indexFullBlocks(Sequence sequence, int tokens) {
        int full = sequence.text.fullBlocksAt(tokens);
        for (; sequence.indexed < full; sequence.indexed++) {
            pool.index(sequence.blocks.get(sequence.indexed), sequence.text.blockHash(sequence.indexed));
        }
    }

    private void releaseBlocks(Sequence sequence) {
        pool.release(sequence.blocks);
        sequence.blocks.clear();
        sequence.indexed = 0;
    }
}

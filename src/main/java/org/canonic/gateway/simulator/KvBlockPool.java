package org.canonic.gateway.simulator;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A GPU's KV cache as vLLM's block manager keeps it: a fixed number of blocks, each held by the running requests that
 * use it (a shared prefix is one block held twice), and an index of the full blocks by chain hash. A block nobody
 * holds is free but keeps its content and its place in the index until it is reused: that is what makes a prefix
 * cached after its request ended. Free blocks are reused least recently freed first. One thread owns a pool.
 */
final class KvBlockPool {

    static final class Block {
        private int holders;
        private long hash;
        private boolean indexed;
        private Block newer;
        private Block older;

        boolean free() {
            return holders == 0;
        }
    }

    private final int capacity;
    private final Map<Long, Block> index = new HashMap<>();
    /** The free blocks, oldest first: never used ones, then each freed block in the order it was freed. */
    private Block oldestFree;
    private Block newestFree;
    private int free;

    KvBlockPool(int capacity) {
        this.capacity = capacity;
        for (int i = 0; i < capacity; i++) {
            append(new Block());
        }
    }

    int capacity() {
        return capacity;
    }

    int free() {
        return free;
    }

    /** Blocks held by running requests; cached blocks that nobody holds count as free, as in vLLM's usage gauge. */
    int inUse() {
        return capacity - free;
    }

    /** The cached block with this chain hash, held or free, or null. */
    Block cached(long hash) {
        return index.get(hash);
    }

    /** Holds a cached block found by {@link #cached}; a free one leaves the free list, so it cannot be evicted. */
    void hold(Block block) {
        if (block.holders++ == 0) {
            unlink(block);
        }
    }

    /** Takes the least recently freed block for new content; its old content, if indexed, is evicted. */
    Block allocate() {
        Block block = oldestFree;
        if (block == null) {
            throw new IllegalStateException("no free KV block");
        }
        unlink(block);
        if (block.indexed) {
            index.remove(block.hash);
            block.indexed = false;
        }
        block.holders = 1;
        return block;
    }

    /**
     * Indexes a block that was just filled. A block whose content is already indexed (two requests prefilled the same
     * text at once) stays out of the index, as in vLLM: the first copy serves later lookups.
     */
    void index(Block block, long hash) {
        if (!block.indexed && !index.containsKey(hash)) {
            block.hash = hash;
            block.indexed = true;
            index.put(hash, block);
        }
    }

    /**
     * Lets go of a request's blocks, last block first, so that its prefix, which later requests are likelier to
     * share, is evicted last (vLLM frees in the same order).
     */
    void release(List<Block> blocks) {
        for (int i = blocks.size() - 1; i >= 0; i--) {
            Block block = blocks.get(i);
            if (--block.holders == 0) {
                append(block);
            }
        }
    }

    private void append(Block block) {
        block.older = newestFree;
        block.newer = null;
        if (newestFree == null) {
            oldestFree = block;
        } else {
            newestFree.newer = block;
        }
        newestFree = block;
        free++;
    }

    private void unlink(Block block) {
        if (block.older == null) {
            oldestFree = block.newer;
        } else {
            block.older.newer = block.newer;
        }
        if (block.newer == null) {
            newestFree = block.older;
        } else {
            block.newer.older = block.older;
        }
        block.older = null;
        block.newer = null;
        free--;
    }
}

package org.canonic.gateway.placement;

import org.canonic.gateway.fleet.LiveBackend;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which backend of one route recently computed which prompt block: an approximation of every replica's prefix
 * cache, learned from where the gateway sent prompts (vLLM's own cache events would be exact, but they travel over
 * ZMQ inside a cluster, not over the HTTP a rented GPU exposes).
 *
 * <p>An entry maps a block's chain hash to the set of backends (a bit each, up to {@value #MAX_BACKENDS} per route)
 * that were sent it, and when it was last sent. Lookups walk a prompt's blocks in order and stop where no candidate
 * holds the prefix any more; the match of a backend is the number of leading blocks it holds.
 *
 * <p>Memory is counted, not guessed: entries live in primitive arrays (20 bytes each) in two generations of
 * open-addressing tables whose sizes together never pass the ceiling. New and refreshed blocks go to the current
 * table; when it is half full and may not grow, it becomes the previous one and the old previous is dropped whole.
 * That is LRU by generations (what was used in neither of the last two generations is forgotten), without a linked
 * list per entry. A block not refreshed within the time to live counts as evicted by the backend.
 *
 * <p>Requests of every event loop share one route's index; the lock is held for the table work only (the hashing is
 * done before), a few microseconds per thousand blocks.
 */
public final class PrefixIndex {

    static final int MAX_BACKENDS = 64;
    static final int BYTES_PER_ENTRY = 8 + 8 + 4;
    private static final int MIN_CAPACITY = 1 << 10;

    private final int maxCapacity;
    private final long ttlSeconds;
    private final long originNanos = System.nanoTime();
    private final Map<LiveBackend, Integer> bits = new IdentityHashMap<>();
    private final LiveBackend[] holders = new LiveBackend[MAX_BACKENDS];
    private final long[] lastUse = new long[MAX_BACKENDS];
    private Table current;
    private Table previous;

    /**
     * @param ceilingBytes what the two tables may take together
     * @param ttlSeconds   after this long without use a block is taken as gone from the backend's cache
     */
    public PrefixIndex(long ceilingBytes, long ttlSeconds) {
        long perTable = Math.max(MIN_CAPACITY, ceilingBytes / 2 / BYTES_PER_ENTRY);
        this.maxCapacity = Integer.highestOneBit((int) Math.min(1 << 30, perTable));
        this.ttlSeconds = Math.max(1, ttlSeconds);
        this.current = new Table(Math.min(MIN_CAPACITY, maxCapacity));
        this.previous = new Table(Math.min(MIN_CAPACITY, maxCapacity));
    }

    /**
     * How many leading blocks of {@code prompt} each candidate holds (0 for a backend the index never saw). The result
     * is aligned with {@code candidates}.
     */
    public synchronized int[] match(PromptBlocks prompt, List<LiveBackend> candidates) {
        int[] matched = new int[candidates.size()];
        long[] candidateBits = new long[candidates.size()];
        long holding = 0;
        for (int i = 0; i < candidateBits.length; i++) {
            Integer bit = bits.get(candidates.get(i));
            candidateBits[i] = bit == null ? 0 : 1L << bit;
            holding |= candidateBits[i];
        }
        long fresh = now() - ttlSeconds;
        for (int block = 0; block < prompt.count() && holding != 0; block++) {
            long hash = prompt.hash(block);
            holding &= current.holders(hash, fresh) | previous.holders(hash, fresh);
            for (int i = 0; i < matched.length; i++) {
                if ((holding & candidateBits[i]) != 0) {
                    matched[i] = block + 1;
                }
            }
        }
        return matched;
    }

    /** {@code backend} was sent {@code prompt}: from now on it holds (and has just used) every block of it. */
    public synchronized void record(PromptBlocks prompt, LiveBackend backend) {
        long bit = 1L << bitOf(backend);
        int stamp = (int) now();
        for (int block = 0; block < prompt.count(); block++) {
            long hash = prompt.hash(block);
            long holders = current.mask(hash);
            if (holders == 0) {
                // Used again: moved up to the current generation with what it held there.
                holders = previous.mask(hash);
            }
            makeRoom();
            current.put(hash, holders | bit, stamp);
        }
    }

    /** Bytes the tables take now (never more than the ceiling). */
    public synchronized long bytes() {
        return (long) (current.keys.length + previous.keys.length) * BYTES_PER_ENTRY;
    }

    /** Blocks remembered now, in both generations (a block in both counts twice). */
    public synchronized long entries() {
        return current.size + previous.size;
    }

    private void makeRoom() {
        if (current.size < current.keys.length / 2) {
            return;
        }
        if (current.keys.length < maxCapacity) {
            current = current.grown(current.keys.length * 2);
        } else {
            previous = current;
            current = new Table(maxCapacity);
        }
    }

    /** The backend's bit; a new backend takes a free one, or the one whose backend sent nothing for longest. */
    private int bitOf(LiveBackend backend) {
        Integer known = bits.get(backend);
        int bit;
        if (known != null) {
            bit = known;
        } else {
            bit = freeBit();
            bits.put(backend, bit);
            holders[bit] = backend;
        }
        lastUse[bit] = System.nanoTime();
        return bit;
    }

    private int freeBit() {
        int oldest = 0;
        for (int bit = 0; bit < MAX_BACKENDS; bit++) {
            if (holders[bit] == null) {
                return bit;
            }
            if (lastUse[bit] - lastUse[oldest] < 0) {
                oldest = bit;
            }
        }
        // More than 64 backends went through this route: the longest unused one's blocks are forgotten.
        bits.remove(holders[oldest]);
        holders[oldest] = null;
        current.clear(oldest);
        previous.clear(oldest);
        return oldest;
    }

    private long now() {
        return (System.nanoTime() - originNanos) / 1_000_000_000L;
    }

    /** Open addressing with linear probing; key 0 is an empty slot (hashes are never 0). */
    private static final class Table {
        final long[] keys;
        final long[] masks;
        final int[] stamps;
        int size;

        Table(int capacity) {
            keys = new long[capacity];
            masks = new long[capacity];
            stamps = new int[capacity];
        }

        long mask(long hash) {
            int slot = find(hash);
            return keys[slot] == hash ? masks[slot] : 0;
        }

        /** The backends holding {@code hash}, if it was used at or after {@code since}. */
        long holders(long hash, long since) {
            int slot = find(hash);
            return keys[slot] == hash && stamps[slot] >= since ? masks[slot] : 0;
        }

        void put(long hash, long mask, int stamp) {
            int slot = find(hash);
            if (keys[slot] != hash) {
                keys[slot] = hash;
                size++;
            }
            masks[slot] = mask;
            stamps[slot] = stamp;
        }

        void clear(int bit) {
            long keep = ~(1L << bit);
            for (int slot = 0; slot < masks.length; slot++) {
                masks[slot] &= keep;
            }
        }

        Table grown(int capacity) {
            Table bigger = new Table(capacity);
            for (int slot = 0; slot < keys.length; slot++) {
                if (keys[slot] != 0) {
                    bigger.put(keys[slot], masks[slot], stamps[slot]);
                }
            }
            return bigger;
        }

        /** The slot holding {@code hash}, or the empty slot where it would go. */
        private int find(long hash) {
            int mask = keys.length - 1;
            int slot = (int) (hash ^ (hash >>> 32)) & mask;
            while (keys[slot] != 0 && keys[slot] != hash) {
                slot = (slot + 1) & mask;
            }
            return slot;
        }
    }

    @Override
    public synchronized String toString() {
        return "PrefixIndex[" + entries() + " blocks, " + bytes() + " bytes, backends " + Arrays.toString(
                bits.keySet().stream().map(LiveBackend::name).toArray()) + "]";
    }
}

package org.canonic.gateway.routing;

import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.policy.Candidate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Which of a request's ranked candidates it tries next, and the slot it needs there. Two manners, by policy:
 * <ul>
 *   <li>{@code ordered} (as before routing policies existed): the candidates one after the other; the request queues
 *       at each for what is left of its wait bound, and moves on when that runs out.</li>
 *   <li>the others: the first of the route's own backends in rank order with a free slot takes the request at once;
 *       only when none has one does it queue, at all of them together, for the first slot to free. A full backend
 *       never holds a request while another backend of the route has room.</li>
 * </ul>
 * The global fallback is for failures, not for overflow (it is often a paid API): it is tried last, in turn, once the
 * route's own backends were tried or stayed full for the whole wait.
 * A candidate is taken once (a retry stays on it; a hedge takes one of its own); what was passed over, and why, is
 * kept for the answer when nothing is left.
 */
final class CandidateWalk {

    /** No candidate is left (or none got a slot in time). */
    static final int NONE = -1;

    private final List<Candidate> candidates;
    private final boolean queueAtEach;
    private final boolean[] taken;
    /** Candidates that are not the route's own (the global fallback): last, in turn, never for a hedge. */
    private final boolean[] spare;
    /** The prompt blocks each candidate is believed to hold: a hedge looks where most of the prompt is cached. */
    private final int[] matched;
    private final SlotWaits waits;
    private final String keyId;
    private final List<String> skipped = new ArrayList<>();
    private boolean skippedForCapacity;
    /** Whether any candidate was taken yet (the first one is never re-checked: it was just found routable). */
    private boolean started;

    /**
     * @param spare   which candidates are not the route's own (the fallback)
     * @param matched the prompt blocks each candidate is believed to hold (a hedge prefers the most)
     */
    CandidateWalk(List<Candidate> candidates, boolean[] spare, int[] matched, boolean queueAtEach, SlotWaits waits,
                  String keyId) {
        this.candidates = candidates;
        this.queueAtEach = queueAtEach;
        this.taken = new boolean[candidates.size()];
        this.spare = spare;
        this.matched = matched;
        this.waits = waits;
        this.keyId = keyId;
    }

    Candidate candidate(int index) {
        return candidates.get(index);
    }

    /** Candidates passed over without an attempt, with why. */
    List<String> skipped() {
        return skipped;
    }

    /** Whether a candidate was passed over because it stayed full (the answer is then 429, not 503). */
    boolean skippedForCapacity() {
        return skippedForCapacity;
    }

    /** Passes over a candidate that was given a slot but cannot be used (drained meanwhile, breaker open). */
    void skip(String why) {
        skipped.add(why);
    }

    /** Another try on candidate {@code index}: a slot there within what is left of the bound, or the next candidate. */
    void retry(int index, IntConsumer granted) {
        LiveBackend backend = candidates.get(index).backend();
        waits.acquire(backend, ok -> {
            if (ok) {
                usable(index, granted, () -> next(granted));
            } else {
                full(backend);
                next(granted);
            }
        });
    }

    /** The next candidate, with a slot taken on it: {@code granted} gets its index, or {@link #NONE}. */
    void next(IntConsumer granted) {
        if (queueAtEach || !ownLeft()) {
            nextInTurn(granted);
        } else {
            firstWithRoom(granted);
        }
    }

    /**
     * A candidate other than the running ones with a slot free right now (for a hedge), taken; or {@link #NONE}. Never
     * queues: a hedge is only worth it where a replica is idle enough to start at once. Among those, the one believed
     * to hold most of the prompt (a hedge repeats the prefill, and a cached prefix makes it short), then the one with
     * the least prefill queued before it.
     */
    int takeIdle() {
        List<Integer> order = new ArrayList<>();
        double[] queued = new double[candidates.size()];
        for (int i = 0; i < candidates.size(); i++) {
            if (!taken[i] && !spare[i]) {
                order.add(i);
                queued[i] = candidates.get(i).backend().load().queuedPrefillNanos();
            }
        }
        order.sort(Comparator.comparingInt((Integer i) -> -matched[i]).thenComparingDouble(i -> queued[i])
                .thenComparingInt(i -> i));
        for (int i : order) {
            LiveBackend backend = candidates.get(i).backend();
            if (backend.routable() && backend.accepting() && backend.slots().tryAcquire(keyId)) {
                taken[i] = true;
                return i;
            }
        }
        return NONE;
    }

    /** A candidate taken for a hedge that was not started after all: it may be tried later. */
    void giveBack(int index) {
        taken[index] = false;
    }

    private void nextInTurn(IntConsumer granted) {
        int index = firstUntaken();
        if (index == NONE) {
            granted.accept(NONE);
            return;
        }
        taken[index] = true;
        LiveBackend backend = candidates.get(index).backend();
        if (started && !backend.routable()) {
            // Health may have changed since the candidates were ranked.
            skipped.add(backend.describe());
            nextInTurn(granted);
            return;
        }
        started = true;
        waits.acquire(backend, ok -> {
            if (!ok) {
                full(backend);
                nextInTurn(granted);
            } else {
                usable(index, granted, () -> nextInTurn(granted));
            }
        });
    }

    private void firstWithRoom(IntConsumer granted) {
        List<LiveBackend> waitable = new ArrayList<>();
        List<Integer> waitableIndex = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            if (taken[i] || spare[i]) {
                continue;
            }
            LiveBackend backend = candidates.get(i).backend();
            if ((started || i > 0) && !backend.routable()) {
                taken[i] = true;
                skipped.add(backend.describe());
            } else if (backend.slots().tryAcquire(keyId)) {
                taken[i] = true;
                started = true;
                usable(i, granted, () -> firstWithRoom(granted));
                return;
            } else {
                waitable.add(backend);
                waitableIndex.add(i);
            }
        }
        if (waitable.isEmpty()) {
            nextInTurn(granted);
            return;
        }
        started = true;
        waits.acquireAny(waitable, backend -> {
            if (backend == null) {
                waitableIndex.forEach(i -> taken[i] = true);
                waitable.forEach(this::full);
                nextInTurn(granted);
                return;
            }
            int index = waitableIndex.get(waitable.indexOf(backend));
            taken[index] = true;
            usable(index, granted, () -> firstWithRoom(granted));
        });
    }

    /** A slot was taken on candidate {@code index}: use it, unless the backend stopped taking requests meanwhile. */
    private void usable(int index, IntConsumer granted, Runnable otherwise) {
        LiveBackend backend = candidates.get(index).backend();
        if (backend.accepting()) {
            granted.accept(index);
            return;
        }
        // Drained while this request waited for it: a drain lets nothing new in.
        backend.slots().release(keyId);
        skipped.add(backend.describe());
        otherwise.run();
    }

    private void full(LiveBackend backend) {
        skippedForCapacity = true;
        skipped.add(backend.name() + " at its concurrency limit");
    }

    private boolean ownLeft() {
        for (int i = 0; i < taken.length; i++) {
            if (!taken[i] && !spare[i]) {
                return true;
            }
        }
        return false;
    }

    private int firstUntaken() {
        for (int i = 0; i < taken.length; i++) {
            if (!taken[i]) {
                return i;
            }
        }
        return NONE;
    }
}

package org.canonic.gateway.fleet;

import org.canonic.gateway.signals.VllmSignals;

/**
 * How loaded one backend is, read by routing without a lock: the gateway's own counts (requests in flight on it,
 * requests queued for a slot, its limit) and, where its {@code /metrics} answers, what vLLM says of its own queue.
 *
 * <p>A scrape is up to an interval old, so it is never used alone: at each scrape the requests the gateway itself had
 * in flight there are remembered, and what vLLM counted beyond them is traffic from elsewhere (other replicas of the
 * gateway, clients that bypass it). The load of a backend is the gateway's exact count now plus that outside traffic
 * as last seen. Signals older than a few intervals are dropped: a backend whose page stopped answering is routed on
 * the gateway's counts alone.
 */
public final class BackendLoad {

    private final BackendSlots slots;
    private final TtftModel ttft;
    private final long staleAfterNanos;
    /** Prompt tokens this gateway sent there whose prefill has not ended yet (their first token has not come). */
    private final java.util.concurrent.atomic.AtomicLong pendingPrefill = new java.util.concurrent.atomic.AtomicLong();
    private volatile Reading reading;
    private volatile Reading previous;

    /** One scrape, with the gateway's own in-flight count when it arrived. */
    private record Reading(VllmSignals signals, int ownInFlight) {
    }

    BackendLoad(BackendSlots slots, TtftModel ttft, long staleAfterNanos) {
        this.slots = slots;
        this.ttft = ttft;
        this.staleAfterNanos = staleAfterNanos;
    }

    /** Requests of this gateway in flight on the backend now. */
    public int inFlight() {
        return slots.inFlight();
    }

    /** Requests of this gateway waiting for one of its slots now. */
    public int queued() {
        return slots.waiting();
    }

    public int limit() {
        return slots.limit();
    }

    /** Whether a request would get a slot at once. */
    public boolean hasRoom() {
        return slots.hasRoom();
    }

    /**
     * The requests on or waiting for the backend, as best known now: this gateway's in flight and queued, plus the
     * outside traffic the last fresh scrape showed. Comparable between backends of one route.
     */
    public double score() {
        return inFlight() + queued() + outside();
    }

    /**
     * Prompt tokens the backend still has to prefill for this gateway's requests (estimated: what its prefix cache
     * was not believed to hold). vLLM prefills in arrival order, so a new request waits behind them: a replica busy
     * with a 20k-token cold prompt is a second away from a new first token, however few requests it holds.
     */
    public long pendingPrefillTokens() {
        return pendingPrefill.get();
    }

    /** A request with {@code tokens} to prefill was sent; {@link #prefillEnded} is called once when that is over. */
    public void prefillStarted(long tokens) {
        pendingPrefill.addAndGet(Math.max(0, tokens));
    }

    /** The prefill of a request's {@code tokens} ended (its first token came, or it ended before). */
    public void prefillEnded(long tokens) {
        pendingPrefill.addAndGet(-Math.max(0, tokens));
    }

    /** How long the prefill queued here takes, at the backend's learned cost per token: a new prompt waits for it. */
    public double queuedPrefillNanos() {
        return ttft.fit().prefillNanos(pendingPrefill.get());
    }

    /** Requests vLLM counted (running and waiting) beyond this gateway's own, at the last fresh scrape. */
    public int outside() {
        Reading last = fresh();
        if (last == null) {
            return 0;
        }
        return Math.max(0, last.signals().running() + last.signals().waiting() - last.ownInFlight());
    }

    /** The last scrape if it is fresh, else null. */
    public VllmSignals signals() {
        Reading last = fresh();
        return last == null ? null : last.signals();
    }

    /** The prefix-cache hit ratio vLLM reported between its last two scrapes (NaN when unknown). */
    public double prefixHitRatio() {
        Reading last = fresh();
        Reading before = previous;
        return last == null || before == null ? Double.NaN : last.signals().prefixHitRatio(before.signals());
    }

    /** What the backend's time to first token costs per uncached prompt token, as learned so far. */
    /** The median of its last first tokens as they came, in nanoseconds (NaN: none yet): for views. */
    public double recentTtftMedianNanos() {
        return ttft.recentMedianNanos();
    }

    /** The first tokens it streamed since a reader's last look (see {@link TtftModel#recentSince}). */
    public TtftModel.Recent recentTtftSince(long seen) {
        return ttft.recentSince(seen);
    }

    public TtftModel.Fit ttft() {
        return ttft.fit();
    }

    /** A scrape arrived. */
    void scraped(VllmSignals signals) {
        previous = reading;
        reading = new Reading(signals, slots.inFlight());
    }

    private Reading fresh() {
        Reading last = reading;
        return last == null || System.nanoTime() - last.signals().atNanos() > staleAfterNanos ? null : last;
    }
}

package org.canonic.gateway.usage;

import org.canonic.gateway.telemetry.RequestRecord;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The usage aggregate: every request the ledger wrote, counted into one bucket per UTC hour, key, route, backend and
 * model, so that a question about a day of traffic sums a few hundred buckets instead of reading the ledger. Fed by
 * the ledger's writer thread with exactly the records it wrote (so the aggregate and the ledger's lines agree), and
 * at start from the ledger files ({@link LedgerReplay}). Buckets older than the retention are dropped.
 *
 * <p>It also keeps each key's tokens of the current UTC day, and (set from outside, see {@link #usdToday(Map)}) its
 * cost today, for the per-key daily budgets.
 */
public final class UsageBook implements UsageCells {

    private static final long HOUR_MS = 3_600_000L;

    /** One bucket's coordinates; any of the names may be null (a request refused before it had a route, say). */
    record Cell(long hour, String key, String route, String backend, String model) {
    }

    private record KeyDay(long epochDay, String key) {
    }

    private final ConcurrentHashMap<Cell, UsageTally> cells = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<KeyDay, AtomicLong> tokensByDay = new ConcurrentHashMap<>();
    private volatile Map<String, Double> usdToday = Map.of();
    private volatile Map<String, Long> sharedTokensToday = Map.of();
    private volatile SharedUsage shared;
    private final long retentionMs;
    private long prunedAtHour;

    /** @param retentionMs how long buckets are kept (and how far back the ledger is read at start) */
    public UsageBook(long retentionMs) {
        this.retentionMs = retentionMs;
    }

    public long retentionMs() {
        return retentionMs;
    }

    /** What the ledger just wrote (its writer thread); with replicas on Redis, also handed to the shared book. */
    public void addRecords(List<RequestRecord> written) {
        List<UsageEvent> events = new ArrayList<>(written.size());
        for (RequestRecord record : written) {
            UsageEvent event = UsageEvent.of(record);
            add(event);
            events.add(event);
        }
        SharedUsage sharedBook = shared;
        if (sharedBook != null) {
            sharedBook.offer(events);
        }
    }

    /** Replicas on Redis: what this replica counts is also added to {@code shared}, and reports read it. */
    public void share(SharedUsage shared) {
        this.shared = shared;
    }

    /** Where reports read: the shared book with replicas on Redis, else this one. */
    public UsageCells source() {
        SharedUsage sharedBook = shared;
        return sharedBook != null ? sharedBook : this;
    }

    public void add(UsageEvent event) {
        long hour = Math.floorDiv(event.endedAtMs(), HOUR_MS);
        cells.computeIfAbsent(new Cell(hour, event.key(), event.route(), event.backend(), event.model()),
                c -> new UsageTally()).add(event);
        long tokens = event.input() + event.output();
        if (tokens > 0) {
            tokensByDay.computeIfAbsent(new KeyDay(Math.floorDiv(event.endedAtMs(), 86_400_000L), event.key()),
                    k -> new AtomicLong()).addAndGet(tokens);
        }
        if (hour > prunedAtHour) {
            prunedAtHour = hour;
            prune(System.currentTimeMillis());
        }
    }

    /** Drops buckets older than the retention. */
    void prune(long nowMs) {
        long oldestHour = Math.floorDiv(nowMs - retentionMs, HOUR_MS);
        cells.keySet().removeIf(cell -> cell.hour() < oldestHour);
        long today = LocalDate.now(ZoneOffset.UTC).toEpochDay();
        tokensByDay.keySet().removeIf(day -> day.epochDay() < today - 1);
    }

    /**
     * Tokens (input + output) that key {@code key}'s closed requests used today (UTC): this replica's own count, or
     * the replicas' together (last read from the shared book) when that is larger.
     */
    public long tokensToday(String key) {
        AtomicLong tokens = tokensByDay.get(new KeyDay(LocalDate.now(ZoneOffset.UTC).toEpochDay(), key));
        return Math.max(tokens == null ? 0 : tokens.get(), sharedTokensToday.getOrDefault(key, 0L));
    }

    /** Every key's tokens today across the replicas, read periodically from the shared book. */
    public void sharedTokensToday(Map<String, Long> tokens) {
        this.sharedTokensToday = Map.copyOf(tokens);
    }

    /** What key {@code key} cost today in USD, as last computed (see {@link #usdToday(Map)}); 0 when unknown. */
    public double usdToday(String key) {
        return usdToday.getOrDefault(key, 0.0);
    }

    /** Sets every key's cost today, computed periodically off the request path. */
    public void usdToday(Map<String, Double> costs) {
        this.usdToday = Map.copyOf(costs);
    }

    /** The buckets whose hour starts within {@code [fromMs, toMs)}, with their tallies (live objects). */
    @Override
    public List<Map.Entry<Cell, UsageTally>> cells(long fromMs, long toMs) {
        long fromHour = Math.floorDiv(fromMs, HOUR_MS);
        long toHour = Math.floorDiv(toMs + HOUR_MS - 1, HOUR_MS);
        List<Map.Entry<Cell, UsageTally>> found = new ArrayList<>();
        for (Map.Entry<Cell, UsageTally> entry : cells.entrySet()) {
            long hour = entry.getKey().hour();
            if (hour >= fromHour && hour < toHour) {
                found.add(entry);
            }
        }
        return found;
    }

    static long hourStartMs(long hour) {
        return hour * HOUR_MS;
    }
}

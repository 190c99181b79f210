package org.canonic.gateway.usage;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The usage aggregate shared by the replicas through Redis ({@code GATEWAY_STATE_STORE=redis}): one hash per UTC
 * hour, {@code <prefix>:usage:<hour>}, whose fields are a bucket's names and one counter ({@code key␟route␟backend␟
 * model␟counter}) holding a sum, so every replica adds its requests with HINCRBY and any replica can answer for all.
 *
 * <p>Nothing here runs on the request path or the ledger's writer: the writer hands over what it wrote
 * ({@link #offer}), which is summed in memory; a thread of its own sends the sums about once a second in one script
 * call. A batch carries an id that Redis remembers for the retention, so a batch sent again after an answer was lost
 * is not counted twice. While Redis is away the sums wait (up to {@value #MAX_PENDING_FIELDS} counters; beyond that
 * new requests are left out of the shared book and counted) and are sent when it returns. Each hash expires after the
 * retention.
 */
public final class SharedUsage implements UsageCells, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SharedUsage.class);
    static final String REQUESTS = "n";
    static final String INPUT = "i";
    static final String OUTPUT = "o";
    static final String ERROR = "e:";
    static final String TTFT = "t";
    private static final char SEP = '\u001f';
    /** Stands for a missing name (a request refused before it had a route): no configured name is this character. */
    private static final String NONE = "\u0000";
    private static final long HOUR_MS = 3_600_000L;
    private static final int MAX_PENDING_FIELDS = 200_000;
    private static final long FLUSH_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** KEYS[1] the batch's id, KEYS[2..] the hour hashes; ARGV[1] the time to keep them (ms), then (hash, field, n). */
    private static final String ADD = """
            if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
            for i = 2, #ARGV, 3 do
              redis.call('HINCRBY', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2])
            end
            for k = 2, #KEYS do redis.call('PEXPIRE', KEYS[k], ARGV[1]) end
            return 1
            """;

    private final StateStore store;
    private final long retentionMs;
    /** hour → field → sum not yet sent; guarded by {@code this}. */
    private Map<Long, Map<String, Long>> pending = new HashMap<>();
    private int pendingFields;
    private long droppedRequests;
    /** The batch being sent (kept, with its id, until Redis took it). Used by the sender only. */
    private Map<Long, Map<String, Long>> sending;
    private String sendingId;
    private long batchSeq;
    private boolean outage;
    private final Thread sender;
    private final Object sendLock = new Object();
    private volatile boolean running = true;

    public SharedUsage(StateStore store, long retentionMs) {
        this.store = store;
        this.retentionMs = retentionMs;
        this.sender = new Thread(this::run, "gateway-usage-sync");
        this.sender.setDaemon(true);
        this.sender.start();
    }

    /** What the ledger wrote (its writer thread): summed here, sent by the sender thread. */
    public synchronized void offer(List<UsageEvent> events) {
        for (UsageEvent event : events) {
            if (pendingFields >= MAX_PENDING_FIELDS) {
                if (droppedRequests++ == 0) {
                    LOG.warnf("Usage: %d counters wait for Redis; requests are left out of the shared usage until"
                            + " it takes them (this replica's own usage still counts them)", pendingFields);
                }
                continue;
            }
            Map<String, Long> hour = pending.computeIfAbsent(Math.floorDiv(event.endedAtMs(), HOUR_MS),
                    h -> new HashMap<>());
            String cell = name(event.key()) + SEP + name(event.route()) + SEP + name(event.backend()) + SEP
                    + name(event.model()) + SEP;
            add(hour, cell + REQUESTS, 1);
            if (event.outcome() != null && !"completed".equals(event.outcome())) {
                add(hour, cell + ERROR + event.outcome(), 1);
            }
            add(hour, cell + INPUT, event.input());
            add(hour, cell + OUTPUT, event.output());
            if (event.ttftMs() >= 0) {
                add(hour, cell + TTFT + TtftHistogram.bucketOf(event.ttftMs()), 1);
            }
        }
    }

    private void add(Map<String, Long> hour, String field, long n) {
        if (n != 0 && hour.merge(field, n, Long::sum) == n) {
            pendingFields++;
        }
    }

    private static String name(String value) {
        return value == null ? NONE : value;
    }

    private void run() {
        while (running) {
            LockSupport.parkNanos(FLUSH_NANOS);
            flush();
        }
        flush();
    }

    /** Sends what waits; true when nothing is left waiting. One sender at a time (the thread, or a caller). */
    public boolean flush() {
        synchronized (sendLock) {
            return send();
        }
    }

    private boolean send() {
        synchronized (this) {
            if (sending == null && !pending.isEmpty()) {
                sending = pending;
                sendingId = store.replicaId() + ":" + System.currentTimeMillis() + ":" + (++batchSeq);
                pending = new HashMap<>();
                pendingFields = 0;
            }
        }
        if (sending == null) {
            return true;
        }
        List<String> keys = new ArrayList<>();
        List<Object> args = new ArrayList<>();
        keys.add(store.key("usage-batch:" + sendingId));
        args.add(retentionMs + HOUR_MS);
        for (Map.Entry<Long, Map<String, Long>> hour : sending.entrySet()) {
            keys.add(store.key("usage:" + hour.getKey()));
            int index = keys.size();
            hour.getValue().forEach((field, n) -> {
                args.add(index);
                args.add(field);
                args.add(n);
            });
        }
        try {
            store.eval(ADD, keys, args.toArray());
            sending = null;
            if (outage) {
                outage = false;
                LOG.info("Usage: Redis takes the shared usage again");
            }
        } catch (StateStoreUnavailable | IllegalStateException e) {
            if (!outage) {
                outage = true;
                LOG.warnf("Usage: the shared usage could not be sent (%s); it is kept and sent again", e.getMessage());
            }
            return false;
        }
        synchronized (this) {
            return pending.isEmpty();
        }
    }

    /** The replicas' buckets within {@code [fromMs, toMs)}, read from Redis (one hash per hour). */
    @Override
    public List<Map.Entry<UsageBook.Cell, UsageTally>> cells(long fromMs, long toMs) {
        long fromHour = Math.floorDiv(fromMs, HOUR_MS);
        long toHour = Math.floorDiv(toMs + HOUR_MS - 1, HOUR_MS);
        List<Map.Entry<UsageBook.Cell, UsageTally>> cells = new ArrayList<>();
        for (long hour = fromHour; hour < toHour; hour++) {
            Response hash = store.call(Command.HGETALL, store.key("usage:" + hour));
            if (hash == null) {
                continue;
            }
            Map<UsageBook.Cell, UsageTally> byCell = new HashMap<>();
            for (String field : hash.getKeys()) {
                String[] parts = field.split(String.valueOf(SEP), -1);
                if (parts.length != 5) {
                    continue;
                }
                long value;
                try {
                    value = Long.parseLong(hash.get(field).toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                UsageBook.Cell cell = new UsageBook.Cell(hour, unname(parts[0]), unname(parts[1]), unname(parts[2]),
                        unname(parts[3]));
                byCell.computeIfAbsent(cell, c -> new UsageTally()).addCounter(parts[4], value);
            }
            cells.addAll(byCell.entrySet());
        }
        return cells;
    }

    private static String unname(String value) {
        return NONE.equals(value) ? null : value;
    }

    @Override
    public void close() {
        running = false;
        LockSupport.unpark(sender);
        try {
            sender.join(3_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

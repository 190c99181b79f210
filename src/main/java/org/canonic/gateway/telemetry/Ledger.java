package org.canonic.gateway.telemetry;

import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The per-request ledger: one JSON line per request, written as a structured log line (category
 * {@code gateway.ledger}) and appended to a JSON Lines file that rotates by size or by day ({@link LedgerFile}).
 *
 * <p>Nothing here runs on the request path but {@link #offer(RequestRecord)}, which never blocks: records wait in a
 * bounded queue for the single writer thread, and when the queue is full (a slow disk, a stuck pipe) the record is
 * dropped rather than slowing a request down.
 *
 * <p>The ledger is complete or says it is not. The log line of a record is written before its file line, so a failed
 * file write never loses it. {@link #written()} counts only lines that reached the file (or the log, without a file);
 * every record that did not is counted in {@link #dropped()} and reported in a log line that says how many and which.
 */
public final class Ledger implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Ledger.class);
    private static final String LEDGER_CATEGORY = "gateway.ledger";
    private static final Logger LEDGER_LOG = Logger.getLogger(LEDGER_CATEGORY);
    private static final long DRAIN_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final BlockingQueue<RequestRecord> queue;
    private final LedgerFile file;
    private final AtomicLong droppedQueueFull = new AtomicLong();
    private final AtomicLong droppedUnwritten = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    /** Set while records are being dropped for a full queue, so that the episode is reported once, not per record. */
    private final AtomicBoolean queueFullEpisode = new AtomicBoolean();
    private long queueFullReportedUpTo;
    private final Thread writer;
    /** Used by the writer thread only: one flush of the log per batch instead of one per line. */
    private final BatchedLogFlush logFlush = new BatchedLogFlush(LEDGER_CATEGORY);
    private volatile boolean running = true;
    /** Told, on the writer thread, of the records that reached the ledger (the usage aggregate); never null. */
    private final Consumer<List<RequestRecord>> onWritten;

    /**
     * @param path        the JSON Lines file; empty writes the log line only
     * @param queueSize   records that may wait for the writer before new ones are dropped
     * @param rotateBytes size at which the file is rotated (it also rotates when the UTC day changes)
     */
    public Ledger(Optional<Path> path, int queueSize, long rotateBytes) {
        this(path, queueSize, rotateBytes, records -> {
        });
    }

    /** @param onWritten told, on the writer thread, of every batch of records that reached the ledger */
    public Ledger(Optional<Path> path, int queueSize, long rotateBytes, Consumer<List<RequestRecord>> onWritten) {
        this.onWritten = onWritten;
        this.file = path.map(p -> new LedgerFile(p, rotateBytes)).orElse(null);
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.writer = new Thread(this::drain, "gateway-ledger-writer");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Hands a closed record to the writer; never blocks. Returns false when the record had to be dropped. */
    public boolean offer(RequestRecord record) {
        if (queue.offer(record)) {
            return true;
        }
        droppedQueueFull.incrementAndGet();
        if (queueFullEpisode.compareAndSet(false, true)) {
            LOG.warnf("The ledger queue is full (%d records wait for the writer): request %s and those after it are "
                    + "dropped from the ledger and its log until the writer catches up", queue.size(),
                    record.requestId());
        }
        return false;
    }

    public int queueDepth() {
        return queue.size();
    }

    /** Records that are not in the ledger: dropped for a full queue, or not written to the file. */
    public long dropped() {
        return droppedQueueFull.get() + droppedUnwritten.get();
    }

    public long droppedQueueFull() {
        return droppedQueueFull.get();
    }

    /** Records whose file line could not be written (their log line was). */
    public long droppedUnwritten() {
        return droppedUnwritten.get();
    }

    /** How often the ledger file was found deleted or replaced while running, and opened afresh. */
    public long reopened() {
        return file == null ? 0 : file.reopened();
    }

    /** Lines that reached the file (without a file: the log). */
    public long written() {
        return written.get();
    }

    /**
     * The writer wakes up on its own schedule rather than per record: a blocking poll would make every request's
     * {@code offer} wake this thread (a futex call and a context switch per request, measured at a sizeable share
     * of the gateway's kernel time under load). Records wait at most {@link #DRAIN_INTERVAL_NANOS}.
     */
    private void drain() {
        List<RequestRecord> batch = new ArrayList<>(256);
        while (running || !queue.isEmpty()) {
            try {
                queue.drainTo(batch, 1024);
                if (batch.isEmpty()) {
                    LockSupport.parkNanos(DRAIN_INTERVAL_NANOS);
                    continue;
                }
                write(batch);
                reportQueueFullEpisode();
            } catch (RuntimeException e) {
                // write() handles its own failures; this is a bug, and the batch's records are counted as lost.
                droppedUnwritten.addAndGet(batch.size());
                LOG.errorf(e, "The ledger writer failed on %d record(s) (requests %s): they are not in the ledger",
                        batch.size(), idRange(batch));
            } finally {
                batch.clear();
            }
        }
        if (file != null) {
            file.close();
        }
    }

    private void write(List<RequestRecord> batch) {
        boolean logged = LEDGER_LOG.isInfoEnabled();
        List<String> lines = new ArrayList<>(batch.size());
        List<RequestRecord> records = new ArrayList<>(batch.size());
        if (logged) {
            logFlush.begin();
        }
        try {
            logLines(batch, logged, lines, records);
        } finally {
            if (logged) {
                logFlush.end();
            }
        }
        if (file == null) {
            written.addAndGet(lines.size());
            tell(logged ? records : batch);
            return;
        }
        int done = lines.isEmpty() ? 0 : file.append(lines);
        written.addAndGet(done);
        tell(records.subList(0, done));
        if (done < lines.size()) {
            List<RequestRecord> lost = records.subList(done, records.size());
            // Said before counted: whoever sees the count (a test, the metrics) can already read why.
            LOG.errorf("The ledger could not write %d record(s) (requests %s) to %s after retrying (%s): they are in "
                    + "the gateway.ledger log only", lost.size(), idRange(lost), file.path(),
                    String.valueOf(file.lastFailure()));
            droppedUnwritten.addAndGet(lost.size());
        }
    }

    /** Hands what reached the ledger to its listener; a listener's failure never costs a ledger line. */
    private void tell(List<RequestRecord> records) {
        if (records.isEmpty()) {
            return;
        }
        try {
            onWritten.accept(records);
        } catch (RuntimeException e) {
            LOG.errorf(e, "The ledger's listener failed on %d record(s) (requests %s)", records.size(),
                    idRange(records));
        }
    }

    /** Serializes and logs each record; collects the lines (and their records) for the file. */
    private void logLines(List<RequestRecord> batch, boolean logged, List<String> lines, List<RequestRecord> records) {
        for (RequestRecord record : batch) {
            if (!logged && file == null) {
                written.incrementAndGet();
                continue;
            }
            String line;
            try {
                line = record.toJson();
            } catch (RuntimeException e) {
                LOG.errorf("The ledger could not serialize request %s (%s): it is not in the ledger",
                        record.requestId(), e.toString());
                droppedUnwritten.incrementAndGet();
                continue;
            }
            // The log line first: whatever happens to the file, the record is not lost with its batch.
            if (logged) {
                LEDGER_LOG.info(line);
            }
            lines.add(line);
            records.add(record);
        }
    }

    /** Once the queue has room again, says how many records the last full-queue episode cost. */
    private void reportQueueFullEpisode() {
        if (queueFullEpisode.get() && queue.remainingCapacity() > 0) {
            long total = droppedQueueFull.get();
            queueFullEpisode.set(false);
            LOG.warnf("The ledger writer caught up: %d record(s) were dropped while its queue was full",
                    total - queueFullReportedUpTo);
            queueFullReportedUpTo = total;
        }
    }

    private static String idRange(List<RequestRecord> records) {
        if (records.isEmpty()) {
            return "none";
        }
        String first = records.get(0).requestId();
        return records.size() == 1 ? first : first + " .. " + records.get(records.size() - 1).requestId();
    }

    /** Writes what is queued (for a bounded time) and stops. */
    @Override
    public void close() {
        close(2_000);
    }

    /** Writes what is queued, waiting at most {@code timeoutMs} for it, and stops. */
    public void close(long timeoutMs) {
        running = false;
        try {
            writer.join(Math.max(1, timeoutMs));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

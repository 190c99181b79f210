package org.canonic.gateway.telemetry;

import org.jboss.logging.Logger;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The per-request ledger: one JSON line per request, written as a structured log line (category
 * {@code gateway.ledger}) and appended to a JSON Lines file that rotates by size or by day.
 *
 * <p>Nothing here runs on the request path but {@link #offer(RequestRecord)}, which never blocks: records wait in a
 * bounded queue for the single writer thread, and when the queue is full (a slow disk, a stuck pipe) the record is
 * dropped and counted rather than slowing a request down.
 */
public final class Ledger implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Ledger.class);
    private static final Logger LEDGER_LOG = Logger.getLogger("gateway.ledger");
    private static final DateTimeFormatter ROTATED = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    private static final long DRAIN_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final BlockingQueue<RequestRecord> queue;
    private final Optional<Path> path;
    private final long rotateBytes;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final Thread writer;
    private volatile boolean running = true;

    private BufferedWriter out;
    private long fileBytes;
    private LocalDate fileDay;

    /**
     * @param path        the JSON Lines file; empty writes the log line only
     * @param queueSize   records that may wait for the writer before new ones are dropped
     * @param rotateBytes size at which the file is rotated (it also rotates when the UTC day changes)
     */
    public Ledger(Optional<Path> path, int queueSize, long rotateBytes) {
        this.path = path;
        this.queue = new ArrayBlockingQueue<>(queueSize);
        this.rotateBytes = rotateBytes;
        this.writer = new Thread(this::drain, "gateway-ledger-writer");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Hands a closed record to the writer; never blocks. Returns false when the record had to be dropped. */
    public boolean offer(RequestRecord record) {
        if (queue.offer(record)) {
            return true;
        }
        dropped.incrementAndGet();
        return false;
    }

    public int queueDepth() {
        return queue.size();
    }

    public long dropped() {
        return dropped.get();
    }

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
            } catch (RuntimeException | IOException e) {
                LOG.errorf("The ledger could not write %d record(s): %s", batch.size(), e.toString());
                closeFile();
            } finally {
                batch.clear();
            }
        }
        closeFile();
    }

    private void write(List<RequestRecord> batch) throws IOException {
        boolean logged = LEDGER_LOG.isInfoEnabled();
        for (RequestRecord record : batch) {
            written.incrementAndGet();
            if (!logged && path.isEmpty()) {
                continue;
            }
            String line = record.toJson();
            if (logged) {
                LEDGER_LOG.info(line);
            }
            if (path.isPresent()) {
                BufferedWriter file = file(line.length() + 1);
                file.write(line);
                file.write('\n');
                fileBytes += line.getBytes(StandardCharsets.UTF_8).length + 1;
            }
        }
        if (out != null) {
            out.flush();
        }
    }

    /** The open ledger file, rotated first when it grew too large or the day changed. */
    private BufferedWriter file(int nextLine) throws IOException {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        if (out != null && (fileBytes + nextLine > rotateBytes || !today.equals(fileDay))) {
            closeFile();
            Path current = path.get();
            Path rotated = current.resolveSibling(current.getFileName() + "." + LocalDateTime.now(ZoneOffset.UTC)
                    .format(ROTATED));
            Files.move(current, rotated);
        }
        if (out == null) {
            Path file = path.get();
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(file, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE), StandardCharsets.UTF_8));
            fileBytes = Files.isRegularFile(file) ? Files.size(file) : 0;
            fileDay = today;
        }
        return out;
    }

    private void closeFile() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                LOG.debugf("closing the ledger file: %s", e.toString());
            }
            out = null;
        }
    }

    /** Writes what is queued (for a bounded time) and stops. */
    @Override
    public void close() {
        running = false;
        try {
            writer.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

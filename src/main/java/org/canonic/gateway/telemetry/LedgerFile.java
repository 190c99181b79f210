package org.canonic.gateway.telemetry;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The ledger's JSON Lines file: appends whole lines, rotates by size and by UTC day, and says exactly how many lines
 * reached the file. Used by the ledger's writer thread only.
 *
 * <p>A failed write is retried, reopening the file, before the lines it could not write are given up (the caller
 * counts them as dropped). A line cut in half by a failure is completed on the retry; one that could not be completed
 * is ended with a newline before anything else is written, so it never swallows the next record.
 *
 * <p>Before each segment it writes it checks that the path still names the file it holds open (the file key, an
 * inode on Unix): a file deleted or replaced under it would otherwise swallow every later line into an unlinked
 * inode while they were counted as written. Then it opens the path afresh, counts it ({@link #reopened()}) and logs a
 * warning. One {@code stat} per batch.
 *
 * <p>Rotation renames the file to {@code <name>.<yyyyMMdd-HHmmss>-<seq>} without replacing anything: the sequence
 * number makes every name unique however often the file rotates within one second.
 */
final class LedgerFile {

    private static final Logger LOG = Logger.getLogger(Ledger.class);
    private static final DateTimeFormatter ROTATED = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    /** Attempts per batch, and the pause before each retry. */
    private static final long[] RETRY_PAUSE_MS = {0, 100, 500};
    /** After a rename fails, the file keeps growing; rotation is tried again after this pause. */
    private static final long ROTATION_RETRY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Path path;
    private final long rotateBytes;

    private FileChannel channel;
    /** The identity of the open file (its inode), to tell when the path no longer names it; null if unknown. */
    private Object fileKey;
    private final java.util.concurrent.atomic.AtomicLong reopened = new java.util.concurrent.atomic.AtomicLong();
    private long fileBytes;
    private LocalDate fileDay;
    private long rotationBlockedUntil;
    private IOException lastFailure;

    LedgerFile(Path path, long rotateBytes) {
        this.path = path;
        this.rotateBytes = Math.max(1, rotateBytes);
    }

    Path path() {
        return path;
    }

    /** How often the file was found deleted or replaced under its path, and opened afresh. Any thread. */
    long reopened() {
        return reopened.get();
    }

    /** Why the last {@link #append} came up short; null when it did not. */
    IOException lastFailure() {
        return lastFailure;
    }

    /** Appends the lines (each without its newline); returns how many reached the file, in order. */
    int append(List<String> lines) {
        lastFailure = null;
        int done = 0;
        ByteBuffer torn = null;
        for (int attempt = 0; attempt < RETRY_PAUSE_MS.length && done < lines.size(); attempt++) {
            pause(RETRY_PAUSE_MS[attempt]);
            try {
                open(torn == null);
                if (torn != null) {
                    // The rest of a line a failure cut in half: once it is written, that line is whole.
                    writeFully(torn);
                    torn = null;
                    done++;
                }
                while (done < lines.size()) {
                    done = writeSegment(lines, done);
                }
                lastFailure = null;
            } catch (PartialWrite partial) {
                done = partial.done;
                torn = partial.rest;
                lastFailure = partial.cause;
                close();
            } catch (IOException e) {
                lastFailure = e;
                close();
            }
        }
        return done;
    }

    /**
     * Writes the lines from {@code from} that fit the current file (at least one), rotating first when the next line
     * would not fit; returns the index after the last line written.
     */
    private int writeSegment(List<String> lines, int from) throws IOException {
        byte[] first = bytes(lines.get(from));
        rotateIfDue(first.length);
        int to = from;
        long size = 0;
        byte[][] encoded = new byte[Math.min(lines.size() - from, 1024)][];
        while (to < lines.size() && to - from < encoded.length) {
            byte[] line = to == from ? first : bytes(lines.get(to));
            if (to > from && fileBytes + size + line.length > rotateBytes) {
                break;
            }
            encoded[to - from] = line;
            size += line.length;
            to++;
        }
        ByteBuffer segment = ByteBuffer.allocate((int) size);
        int[] ends = new int[to - from];
        for (int i = 0; i < ends.length; i++) {
            segment.put(encoded[i]);
            ends[i] = segment.position();
        }
        segment.flip();
        try {
            writeFully(segment);
        } catch (IOException e) {
            int written = segment.position();
            int whole = 0;
            while (whole < ends.length && ends[whole] <= written) {
                whole++;
            }
            fileBytes += written;
            ByteBuffer rest = null;
            if (whole < ends.length && written > (whole == 0 ? 0 : ends[whole - 1])) {
                rest = segment.duplicate();
                rest.position(written).limit(ends[whole]);
            }
            throw new PartialWrite(from + whole, rest, e);
        }
        fileBytes += size;
        return to;
    }

    private void writeFully(ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    private void rotateIfDue(int nextLine) throws IOException {
        reopenIfGone();
        open(true);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        boolean due = fileBytes > 0 && (fileBytes + nextLine > rotateBytes || !today.equals(fileDay));
        if (!due || System.nanoTime() < rotationBlockedUntil) {
            return;
        }
        close();
        String stamp = LocalDateTime.now(ZoneOffset.UTC).format(ROTATED);
        for (int seq = 1; ; seq++) {
            Path rotated = path.resolveSibling(path.getFileName() + "." + stamp + "-" + String.format("%04d", seq));
            try {
                Files.move(path, rotated);
                break;
            } catch (FileAlreadyExistsException taken) {
                // Another rotation within this second: try the next number; nothing is ever replaced.
            } catch (NoSuchFileException gone) {
                break;
            } catch (IOException e) {
                // Never lose a line over a rename: keep appending to the same file and try again later.
                rotationBlockedUntil = System.nanoTime() + ROTATION_RETRY_NANOS;
                LOG.warnf("The ledger file %s could not be rotated (%s); it keeps growing until a rotation succeeds",
                        path, e.toString());
                break;
            }
        }
        open(true);
    }

    /** Closes the open file if its path no longer names it (deleted, or replaced), so that the path is opened anew. */
    private void reopenIfGone() {
        if (channel == null || fileKey == null) {
            return;
        }
        Object current;
        try {
            current = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException gone) {
            current = null;
        }
        if (fileKey.equals(current)) {
            return;
        }
        reopened.incrementAndGet();
        LOG.warnf("The ledger file %s is no longer the file the ledger was writing (%s): a new file is opened under"
                + " that path; lines written before are in the old file if it still exists", path,
                current == null ? "deleted" : "replaced");
        close();
    }

    /**
     * Opens the file for appending if it is not open. {@code endCutLine}: end a line a failure left unfinished (not
     * when the caller is about to finish it).
     */
    private void open(boolean endCutLine) throws IOException {
        if (channel != null) {
            return;
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        fileBytes = channel.size();
        fileDay = LocalDate.now(ZoneOffset.UTC);
        fileKey = identity();
        if (endCutLine && fileBytes > 0 && Files.isRegularFile(path) && !endsWithNewline()) {
            // A line a failure left unfinished: end it here, or the next record would be glued to it.
            writeFully(ByteBuffer.wrap(new byte[] {'\n'}));
            fileBytes++;
        }
    }

    /** The file key of what the path names now, or null (no such file, or a file system without keys). */
    private Object identity() {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private boolean endsWithNewline() throws IOException {
        try (FileChannel reader = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            return reader.read(last, reader.size() - 1) == 1 && last.get(0) == '\n';
        }
    }

    void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debugf("closing the ledger file: %s", e.toString());
            }
            channel = null;
        }
    }

    private static byte[] bytes(String line) {
        byte[] text = line.getBytes(StandardCharsets.UTF_8);
        byte[] withNewline = new byte[text.length + 1];
        System.arraycopy(text, 0, withNewline, 0, text.length);
        withNewline[text.length] = '\n';
        return withNewline;
    }

    private static void pause(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A write that failed part-way: how many lines are whole in the file, and the rest of a cut line. */
    private static final class PartialWrite extends IOException {
        final int done;
        final ByteBuffer rest;
        final IOException cause;

        PartialWrite(int done, ByteBuffer rest, IOException cause) {
            super(cause.getMessage(), cause);
            this.done = done;
            this.rest = rest;
            this.cause = cause;
        }
    }
}

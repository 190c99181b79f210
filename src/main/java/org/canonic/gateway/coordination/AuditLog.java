package org.canonic.gateway.coordination;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The record of every admin mutation: {@code audit.jsonl} in the state directory, one JSON object per line, only
 * ever appended to. Each line is written in one {@code write} on a file opened in append mode and forced to disk
 * before the mutation is reported done; mutations are rare, so durability costs nothing that matters. A line that
 * cannot be written makes the mutation fail ({@link CoordinationUnavailable}): an operator must never change the
 * gateway without a trace.
 *
 * <p>Fields: {@code time} (ISO-8601 UTC), {@code caller}, {@code action}, {@code target}, {@code before},
 * {@code after} (JSON objects or null), {@code result} ({@code ok} or an error code) and {@code lock} (the fencing
 * number of the lock token used, or null). Lock tokens are never passed in, so they cannot be written.
 */
@Singleton
public class AuditLog {

    public static final String FILE = "audit.jsonl";
    /** The request header naming who makes a change, recorded as {@code caller}. */
    public static final String ACTOR_HEADER = "X-Gateway-Actor";
    public static final String DEFAULT_CALLER = "admin";
    public static final String OK = "ok";
    static final int MAX_CALLER = 64;
    /** Bounds of the place a change reserves for its line (see {@link #reserve}). */
    static final int MIN_RESERVED = 8 * 1024;
    static final int MAX_RESERVED = 256 * 1024;

    private static final Logger LOG = Logger.getLogger(AuditLog.class);

    /** The shared stream every replica's audit lines also go to (with the Redis store). */
    public static final String STREAM = "audit";

    private final Path file;
    private final ObjectMapper mapper;
    private final StateStore store;

    /** The audit log of one replica: the file only. */
    public AuditLog(StateDirectory state, ObjectMapper mapper) {
        this(state, mapper, null);
    }

    @Inject
    public AuditLog(StateDirectory state, ObjectMapper mapper, StateStore store) {
        this.file = state.resolve(FILE);
        this.mapper = mapper;
        this.store = store != null && store.shared() ? store : null;
    }

    /**
     * The caller recorded for a request: the {@code X-Gateway-Actor} header reduced to {@code [A-Za-z0-9._@-]} and
     * 64 characters (it goes into a file operators grep and must not carry control characters or forge lines), or
     * {@value #DEFAULT_CALLER} when absent or empty after that.
     */
    public static String caller(String actorHeader) {
        if (actorHeader == null) {
            return DEFAULT_CALLER;
        }
        StringBuilder clean = new StringBuilder(Math.min(actorHeader.length(), MAX_CALLER));
        for (int i = 0; i < actorHeader.length() && clean.length() < MAX_CALLER; i++) {
            char c = actorHeader.charAt(i);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == '@' || c == '-') {
                clean.append(c);
            }
        }
        return clean.length() == 0 ? DEFAULT_CALLER : clean.toString();
    }

    /**
     * Appends one line and forces it to disk.
     *
     * @param lock the fencing number of the lock token the caller presented, or null
     * @throws CoordinationUnavailable if the line could not be written
     */
    public void record(String caller, String action, String target, JsonNode before, JsonNode after, String result,
                       Long lock) {
        byte[] bytes = serialized(line(caller, action, target, before, after, result, lock));
        append(bytes, action);
        share(bytes, action);
    }

    /**
     * Takes the place of one line in the file before a change is made, so that the change happens only if its line
     * can be written: the place is written (blanks, forced to disk) now, and {@link #complete} overwrites it with the
     * line once the change is made or refused, into space already on disk. A state directory that is full or an
     * audit file that cannot be written thus refuses the change before anything changed.
     *
     * @param lock the fencing number of the lock token the caller presented, or null
     * @throws CoordinationUnavailable if the place could not be written: do not make the change
     */
    public Reservation reserve(String caller, String action, String target, JsonNode before, Long lock) {
        ObjectNode line = line(caller, action, target, before, null, null, lock);
        // Room for the line with an "after" as large as "before" and more; a larger "after" is summarized.
        int size = Math.min(MAX_RESERVED, Math.max(MIN_RESERVED, 2 * serialized(line).length + MIN_RESERVED / 2));
        synchronized (this) {
            FileChannel channel = null;
            try {
                channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                long offset = channel.size();
                byte[] blanks = new byte[size];
                Arrays.fill(blanks, (byte) ' ');
                blanks[size - 1] = '\n';
                write(channel, ByteBuffer.wrap(blanks), offset);
                channel.force(true);
                return new Reservation(line, channel, offset, size);
            } catch (IOException | SecurityException e) {
                closeQuietly(channel);
                LOG.errorf("Audit log %s is not writable; refusing %s: %s", file, action, e.toString());
                throw new CoordinationUnavailable(CoordinationUnavailable.AUDIT,
                        "The audit log cannot be written, so the change was not made; see the gateway log.", e);
            }
        }
    }

    /**
     * Writes the reserved line: the change was made ({@code result} {@value #OK}, with {@code after}) or refused
     * (its code). Never throws: the change is made by now and its answer must say so. Should even this write fail
     * (a disk error), the line goes to the ERROR log instead.
     *
     * @param target what was changed, when only the change could tell (null keeps the reserved one)
     */
    public void complete(Reservation reservation, String target, JsonNode after, String result) {
        ObjectNode line = reservation.line;
        line.put("time", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
        if (target != null) {
            line.put("target", target);
        }
        line.set("after", after);
        line.put("result", result);
        // Field order stays time, caller, action, target, before, after, result, lock.
        JsonNode lock = line.remove("lock");
        line.set("lock", lock);
        byte[] bytes = serialized(line);
        if (bytes.length > reservation.size) {
            line.set("after", mapper.createObjectNode().put("omitted", "larger than the audit line allows")
                    .put("bytes", bytes.length));
            line.set("lock", line.remove("lock"));
            bytes = serialized(line);
        }
        synchronized (this) {
            try (FileChannel channel = reservation.channel) {
                boolean last = channel.size() == reservation.offset + reservation.size;
                if (last) {
                    // Nothing was appended behind the place: the line takes what it needs, the rest is given back.
                    write(channel, ByteBuffer.wrap(bytes), reservation.offset);
                    channel.truncate(reservation.offset + bytes.length);
                } else {
                    byte[] padded = new byte[reservation.size];
                    Arrays.fill(padded, (byte) ' ');
                    System.arraycopy(bytes, 0, padded, 0, bytes.length - 1);
                    padded[reservation.size - 1] = '\n';
                    write(channel, ByteBuffer.wrap(padded), reservation.offset);
                }
                channel.force(true);
            } catch (IOException | RuntimeException e) {
                LOG.errorf("Audit log %s: the line of a change that WAS made could not be written (%s); it is: %s",
                        file, e.toString(), new String(bytes, StandardCharsets.UTF_8).strip());
            }
        }
        share(bytes, line.path("action").asText());
    }

    /** The place of one audit line, taken before a change ({@link #reserve}), written by {@link #complete}. */
    public static final class Reservation {
        private final ObjectNode line;
        private final FileChannel channel;
        private final long offset;
        private final int size;

        private Reservation(ObjectNode line, FileChannel channel, long offset, int size) {
            this.line = line;
            this.channel = channel;
            this.offset = offset;
            this.size = size;
        }
    }

    private ObjectNode line(String caller, String action, String target, JsonNode before, JsonNode after,
                            String result, Long lock) {
        ObjectNode line = mapper.createObjectNode();
        line.put("time", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
        line.put("caller", caller == null ? DEFAULT_CALLER : caller);
        line.put("action", action);
        line.put("target", target);
        line.set("before", before);
        line.set("after", after);
        line.put("result", result);
        if (lock == null) {
            line.putNull("lock");
        } else {
            line.put("lock", lock.longValue());
        }
        return line;
    }

    private byte[] serialized(ObjectNode line) {
        try {
            // Jackson escapes line breaks inside strings, so the only newline is the one that ends the record.
            return (mapper.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new CoordinationUnavailable(CoordinationUnavailable.AUDIT,
                    "The audit record could not be serialized.", e);
        }
    }

    private static void write(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // nothing was written through it that matters
            }
        }
    }

    /** Like {@link #record}, for a refused attempt: a failure to write it is logged, never thrown. */
    public void recordRefusal(String caller, String action, String target, JsonNode before, String code, Long lock) {
        try {
            record(caller, action, target, before, null, code, lock);
        } catch (CoordinationUnavailable e) {
            LOG.errorf("Could not audit a refused %s (%s): %s", action, code, e.getMessage());
        }
    }

    /**
     * The newest {@code limit} audit lines, newest first, as written: every replica's from the shared stream with
     * the Redis store, this replica's file otherwise (its last 256 KiB, enough for hundreds of lines). For views;
     * the file stays the record.
     *
     * @throws StateStoreUnavailable when the shared stream cannot be read
     */
    public List<JsonNode> recent(int limit) {
        List<String> lines = new ArrayList<>();
        if (store != null) {
            Response entries = store.call(Command.XREVRANGE,
                    store.key(STREAM), "+", "-", "COUNT", limit);
            for (Response entry : entries) {
                Response fields = entry.get(1);
                for (int i = 0; i + 1 < fields.size(); i += 2) {
                    if ("line".equals(fields.get(i).toString())) {
                        lines.add(fields.get(i + 1).toString());
                    }
                }
            }
        } else {
            lines.addAll(tail());
        }
        List<JsonNode> parsed = new ArrayList<>(Math.min(limit, lines.size()));
        for (String line : lines) {
            if (parsed.size() == limit) {
                break;
            }
            try {
                parsed.add(mapper.readTree(line));
            } catch (JsonProcessingException e) {
                // A torn last line (a crash mid-write) is not an event; skip it.
            }
        }
        return parsed;
    }

    /** The whole lines of the file's last 256 KiB, newest first. */
    private List<String> tail() {
        long tailBytes = 256 * 1024;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            long from = Math.max(0, size - tailBytes);
            ByteBuffer buffer = ByteBuffer.allocate((int) (size - from));
            while (buffer.hasRemaining() && channel.read(buffer, from + buffer.position()) > 0) {
                // read until the buffer is full or the file ends
            }
            String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
            List<String> all = new ArrayList<>(Arrays.asList(text.split("\n")));
            if (from > 0 && !all.isEmpty()) {
                all.remove(0); // cut mid-line
            }
            Collections.reverse(all);
            return all.stream().filter(l -> !l.isBlank()).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new CoordinationUnavailable(CoordinationUnavailable.AUDIT, "The audit log cannot be read.", e);
        }
    }

    public Path file() {
        return file;
    }

    /**
     * Appends the line to the shared stream, so that every replica's changes are in one ordered record. The file
     * stays the durable record of this replica and has the line already: a stream that cannot take it is reported
     * (ERROR, with the action) rather than turning a change that was made and recorded into a failure.
     */
    private void share(byte[] bytes, String action) {
        if (store == null) {
            return;
        }
        try {
            store.append(STREAM, new String(bytes, StandardCharsets.UTF_8).strip());
        } catch (StateStoreUnavailable e) {
            LOG.errorf("Audit line of %s is in %s but not in the shared stream: %s", action, file, e.getMessage());
        }
    }

    private synchronized void append(byte[] bytes, String action) {
        // Opened per record: rare writes, and an operator may move the file away between two of them.
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        } catch (IOException | SecurityException e) {
            LOG.errorf("Audit log %s is not writable; refusing %s: %s", file, action, e.toString());
            throw new CoordinationUnavailable(CoordinationUnavailable.AUDIT,
                    "The audit log cannot be written, so the change was not made; see the gateway log.", e);
        }
    }
}

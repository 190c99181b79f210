package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.coordination.CoordinationUnavailable;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.Replicas;
import org.canonic.gateway.state.StateStore;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code tracked-instances.jsonl} in the state directory: every lifecycle action and its outcome, one JSON object
 * per line, only ever appended (never rewritten). Intents are written before the provider is called, so a crash
 * between the two leaves a trace to reconcile. A line that cannot be written stops the action: the gateway never
 * rents a machine it cannot account for. Fields: {@code time, caller, provider, action, instance, provider_id,
 * recipe, offer, usd_per_hour, estimate_usd, hours, lock, result, error, state} (+ a few per action). Keys never.
 */
public final class TrackedActions {

    public static final String FILE = "tracked-instances.jsonl";
    private static final Logger LOG = Logger.getLogger(TrackedActions.class);

    /** The shared stream every replica's tracked actions also go to (with the Redis store). */
    public static final String STREAM = "tracked";

    private final Path file;
    private final ObjectMapper mapper;
    private final StateStore store;

    public TrackedActions(Path file, ObjectMapper mapper) {
        this(file, mapper, null);
    }

    /** With a shared store, every line also goes to its {@value #STREAM} stream, tagged with this replica. */
    public TrackedActions(Path file, ObjectMapper mapper, StateStore store) {
        this.file = file;
        this.mapper = mapper;
        this.store = store != null && store.shared() ? store : null;
    }

    /** A new record stamped with the time; the caller fills the rest and {@link #append}s it. */
    public ObjectNode record(String caller, TrackedInstance instance, String action, Long fencing) {
        ObjectNode line = mapper.createObjectNode();
        line.put("time", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
        line.put("caller", caller);
        line.put("provider", instance.provider());
        line.put("action", action);
        line.put("instance", instance.name());
        line.put("provider_id", instance.providerId());
        line.put("recipe", instance.recipe());
        line.put("offer", instance.offerId());
        putNumber(line, "usd_per_hour", instance.usdPerHour());
        putNumber(line, "stopped_usd_per_hour", instance.stoppedUsdPerHour());
        line.put("estimate_usd", Double.parseDouble(CostGuard.usd(instance.estimateCents())));
        putNumber(line, "hours", instance.hours());
        if (instance.idleStopMinutes() != null) {
            line.put("idle_stop_minutes", instance.idleStopMinutes());
        }
        if (fencing == null) {
            line.putNull("lock");
        } else {
            line.put("lock", fencing.longValue());
        }
        return line;
    }

    /** Appends {@code line} with its result, error and the instance's resulting state, forced to disk. */
    public synchronized void append(ObjectNode line, String result, String error, TrackedInstance.State state) {
        line.put("result", result);
        line.put("error", error);
        line.put("state", state == null ? null : state.name());
        byte[] bytes;
        try {
            bytes = (mapper.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CoordinationUnavailable(CoordinationUnavailable.AUDIT, "A tracked action could not be"
                    + " serialized.", e);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        } catch (IOException | SecurityException e) {
            LOG.errorf("%s is not writable: %s", file, e.toString());
            throw new CoordinationUnavailable(CoordinationUnavailable.AUDIT, "The tracked-instances file cannot be"
                    + " written, so the compute action was not taken; see the gateway log.", e);
        }
        if (store != null) {
            // After the file (this replica's durable record): the stream is how the other replicas, the leader
            // among them, learn of this instance. Not reaching it stops the action, as the file would.
            store.append(STREAM, new String(bytes, StandardCharsets.UTF_8).strip());
        }
    }

    /**
     * Replays into {@code instances} the records other replicas appended to the shared stream after {@code after}
     * (an entry id, "0" for all); an instance first seen waiting gets {@code readinessDeadlineMs}. Returns the id of
     * the last entry read, where the next call starts.
     */
    String replayShared(String after, java.util.Map<String, TrackedInstance> instances, long readinessDeadlineMs) {
        String cursor = after;
        for (ObjectNode record : sharedSince(after)) {
            cursor = record.path("stream_id").asText(cursor);
            TrackedInstance instance = TrackedInstance.replay(instances, record);
            if (instance != null && instance.state() == TrackedInstance.State.WAITING
                    && instance.readinessDeadlineMs == 0) {
                instance.readinessDeadlineMs = readinessDeadlineMs;
            }
        }
        return cursor;
    }

    /**
     * The tracked actions other replicas appended to the shared stream after {@code after} (an entry id, "0" for
     * all), in order, each with its entry id in {@code stream_id} and the replica that wrote it in {@code replica};
     * entries of this replica carry only that id.
     * Empty with the embedded store.
     */
    public List<ObjectNode> sharedSince(String after) {
        List<ObjectNode> records = new ArrayList<>();
        if (store == null) {
            return records;
        }
        Response entries = store.call(Command.XRANGE, store.key(STREAM), "(" + after, "+", "COUNT", 1000);
        for (Response entry : entries) {
            Response fields = entry.get(1);
            String replica = null;
            String line = null;
            for (int i = 0; i + 1 < fields.size(); i += 2) {
                if ("replica".equals(fields.get(i).toString())) {
                    replica = fields.get(i + 1).toString();
                } else if ("line".equals(fields.get(i).toString())) {
                    line = fields.get(i + 1).toString();
                }
            }
            try {
                if (line != null && !store.replicaId().equals(replica)
                        && mapper.readTree(line) instanceof ObjectNode record) {
                    record.put("stream_id", entry.get(0).toString());
                    record.put("replica", replica);
                    records.add(record);
                } else {
                    records.add((ObjectNode) mapper.createObjectNode().put("stream_id", entry.get(0).toString()));
                }
            } catch (IOException e) {
                LOG.warnf("Skipping an unreadable entry of the shared tracked stream");
            }
        }
        return records;
    }

    /**
     * Whether the replica that wrote a shared record is still in the census ({@link Replicas#alive}); true with the
     * embedded store (nothing is shared). Throws {@link org.canonic.gateway.state.StateStoreUnavailable} when the
     * store does not answer.
     */
    boolean writerAlive(String replica) {
        return store == null || Replicas.alive(store, replica);
    }

    /** Every record, in order; a torn last line (a crash mid-write) is skipped. */
    public List<JsonNode> readAll() {
        List<JsonNode> records = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    try {
                        records.add(mapper.readTree(line));
                    } catch (IOException e) {
                        LOG.warnf("Skipping an unreadable line of %s", file);
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return records;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e, e);
        }
        return records;
    }

    public Path file() {
        return file;
    }

    private static void putNumber(ObjectNode line, String field, double value) {
        if (Double.isNaN(value)) {
            line.putNull(field);
        } else {
            line.put(field, value);
        }
    }
}

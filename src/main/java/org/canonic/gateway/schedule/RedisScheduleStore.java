package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.VersionedHash;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The schedule shared by every replica: {@code <prefix>:schedule}, a hash of id to entry JSON, and
 * {@code <prefix>:schedule:version}, a counter every change increments. A change is optimistic: the decision is
 * taken on a snapshot (one Lua step reads the counter and the hash together) and stored by a second Lua step only if
 * the counter has not moved; otherwise it is decided again on a fresh snapshot. That is the compare-and-set which
 * makes a window start (or end) once however many replicas believe they lead, and keeps two replicas from both
 * taking the last place or booking overlapping maintenance.
 *
 * <p>Reads are served from a copy that is refreshed only when the counter moved, so the tick of every replica costs
 * one {@code GET} while nothing changes.
 */
public final class RedisScheduleStore implements ScheduleStore {

    private static final Logger LOG = Logger.getLogger(RedisScheduleStore.class);
    /** Decisions retried on a moved counter before the change is refused as too contended. */
    private static final int ATTEMPTS = 20;

    /** ARGV: the version decided on, n, then n (id, json) pairs to put, then the ids to delete. */
    private static final String WRITE = """
            if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return -1 end
            local n = tonumber(ARGV[2])
            for i = 0, n - 1 do
              redis.call('HSET', KEYS[1], ARGV[3 + 2 * i], ARGV[4 + 2 * i])
            end
            for i = 3 + 2 * n, #ARGV do
              redis.call('HDEL', KEYS[1], ARGV[i])
            end
            return redis.call('INCR', KEYS[2])
            """;

    private record Snapshot(String version, List<ScheduleEntry> entries) {
    }

    private final StateStore store;
    private final ObjectMapper mapper;
    private final VersionedHash schedule;
    private final String hash;
    private final String counter;
    private volatile Snapshot cached;

    /**
     * @throws InvalidConfigurationException when an entry in Redis cannot be read as one: the start stops, naming the
     *                                       key and the entry, rather than forget a window
     */
    public RedisScheduleStore(StateStore store, ObjectMapper mapper) {
        this.store = store;
        this.mapper = mapper;
        this.schedule = new VersionedHash(store, mapper, "schedule", "a schedule entry");
        this.hash = schedule.hash();
        this.counter = schedule.counter();
        List<String> problems = new ArrayList<>();
        cached = snapshot(problems);
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
    }

    @Override
    public List<ScheduleEntry> read() {
        Snapshot last = cached;
        String now = schedule.version();
        if (last != null && last.version().equals(now)) {
            return last.entries();
        }
        return fresh().entries();
    }

    @Override
    public <T> T update(Function<List<ScheduleEntry>, Change<T>> decide) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Snapshot snapshot = fresh();
            Change<T> change = decide.apply(snapshot.entries());
            if (change.empty()) {
                return change.result();
            }
            List<Object> args = new ArrayList<>();
            args.add(snapshot.version());
            args.add(change.put().size());
            for (ScheduleEntry entry : change.put()) {
                args.add(entry.id());
                args.add(json(entry));
            }
            args.addAll(change.delete());
            long stored = store.eval(WRITE, List.of(hash, counter), args.toArray()).toLong();
            if (stored >= 0) {
                return change.result();
            }
            // Another replica changed the schedule since the snapshot: decide again on what it holds now.
        }
        throw new ScheduleException(503, "schedule_busy", null, "The schedule kept changing on other replicas while "
                + "this change was decided; retry.");
    }

    @Override
    public String where() {
        return schedule.where();
    }

    private Snapshot fresh() {
        List<String> problems = new ArrayList<>();
        Snapshot snapshot = snapshot(problems);
        problems.forEach(problem -> LOG.errorf("Schedule: %s; the entry is left out", problem));
        cached = snapshot;
        return snapshot;
    }

    private Snapshot snapshot(List<String> problems) {
        VersionedHash.Snapshot<ScheduleEntry> read = schedule.read(ScheduleEntry::fromJson, problems);
        return new Snapshot(read.version(), read.entries());
    }

    private String json(ScheduleEntry entry) {
        try {
            return mapper.writeValueAsString(entry.toJson(mapper));
        } catch (IOException e) {
            throw new IllegalStateException("a schedule entry could not be serialized", e);
        }
    }
}

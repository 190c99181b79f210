package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.StateDirectory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The schedule of one replica: {@code schedule.json} in the state directory, {@code {"version":1,"entries":[...]}},
 * replaced atomically on every change (a crash leaves the old file or the new one). Read once at start; a file that
 * is there but cannot be read as a schedule stops the start, naming the file: reading it as empty would silently
 * forget maintenance windows (and the backends they drained).
 */
public final class FileScheduleStore implements ScheduleStore {

    public static final String FILE = "schedule.json";

    private final StateDirectory state;
    private final ObjectMapper mapper;
    private final Map<String, ScheduleEntry> entries = new LinkedHashMap<>();

    /** @throws InvalidConfigurationException when {@code schedule.json} exists but is not a schedule */
    public FileScheduleStore(StateDirectory state, ObjectMapper mapper) {
        this.state = state;
        this.mapper = mapper;
        load().forEach(entry -> entries.put(entry.id(), entry));
    }

    private List<ScheduleEntry> load() {
        Optional<JsonNode> stored = state.readDocument(FILE, mapper, this::unreadable);
        if (stored.isEmpty()) {
            return List.of();
        }
        JsonNode root = stored.get();
        if (!root.isObject() || !root.path("entries").isArray()) {
            throw unreadable("no \"entries\" list");
        }
        List<ScheduleEntry> loaded = new java.util.ArrayList<>();
        for (JsonNode entry : root.get("entries")) {
            try {
                loaded.add(ScheduleEntry.fromJson(entry));
            } catch (IllegalArgumentException e) {
                throw unreadable("an entry cannot be read: " + e.getMessage());
            }
        }
        return loaded;
    }

    @Override
    public synchronized List<ScheduleEntry> read() {
        return List.copyOf(entries.values());
    }

    /** One replica: the monitor alone makes read, decide and write one step, so the decision is never retried. */
    @Override
    public synchronized <T> T update(Function<List<ScheduleEntry>, Change<T>> decide) {
        Change<T> change = decide.apply(List.copyOf(entries.values()));
        if (change.empty()) {
            return change.result();
        }
        Map<String, ScheduleEntry> next = new LinkedHashMap<>(entries);
        change.delete().forEach(next::remove);
        change.put().forEach(entry -> next.put(entry.id(), entry));
        save(next);
        entries.clear();
        entries.putAll(next);
        return change.result();
    }

    @Override
    public String where() {
        return state.resolve(FILE).toString();
    }

    private void save(Map<String, ScheduleEntry> next) {
        ObjectNode root = mapper.createObjectNode();
        root.put("version", 1);
        ArrayNode list = root.putArray("entries");
        next.values().forEach(entry -> list.add(entry.toJson(mapper)));
        state.writeDocument(FILE, mapper.writerWithDefaultPrettyPrinter(), root, "The schedule");
    }

    private InvalidConfigurationException unreadable(String why) {
        return new InvalidConfigurationException(List.of(state.resolve(FILE) + " cannot be read as a schedule ("
                + why + "); " + state.restoreHint(FILE) + ", or fix it by hand. Removing it forgets every announced "
                + "window."));
    }
}

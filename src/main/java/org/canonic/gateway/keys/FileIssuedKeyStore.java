package org.canonic.gateway.keys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.CoordinationUnavailable;
import org.canonic.gateway.coordination.StateDirectory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The issued keys of one replica: {@code client-keys.json} in the state directory,
 * {@code {"version":1,"keys":[...],"last_used":{id:ms}}}, replaced atomically on every change. A file that is there
 * but cannot be read as keys stops the start, naming it: read as "no keys", the next save would forget every key
 * made so far (and revoke it without a word).
 */
public final class FileIssuedKeyStore implements IssuedKeyStore {

    public static final String FILE = "client-keys.json";

    private final StateDirectory state;
    private final ObjectMapper mapper;
    private final Map<String, IssuedKey> keys = new LinkedHashMap<>();
    private final Map<String, Long> used = new HashMap<>();
    private long version;

    /** @throws InvalidConfigurationException when the file exists but is not a key list */
    public FileIssuedKeyStore(StateDirectory state, ObjectMapper mapper) {
        this.state = state;
        this.mapper = mapper;
        Optional<JsonNode> stored = state.readDocument(FILE, mapper, this::unreadable);
        if (stored.isEmpty()) {
            return;
        }
        JsonNode root = stored.get();
        if (!root.isObject() || !root.path("keys").isArray()) {
            throw unreadable("no \"keys\" list");
        }
        for (JsonNode node : root.get("keys")) {
            try {
                IssuedKey key = IssuedKey.fromJson(node);
                keys.put(key.id(), key);
            } catch (IllegalArgumentException e) {
                throw unreadable("an entry cannot be read: " + e.getMessage());
            }
        }
        root.path("last_used").fields().forEachRemaining(field -> {
            if (field.getValue().canConvertToLong()) {
                used.put(field.getKey(), field.getValue().asLong());
            }
        });
    }

    @Override
    public synchronized Contents load() {
        return new Contents(Long.toString(version), List.copyOf(keys.values()));
    }

    @Override
    public synchronized String version() {
        return Long.toString(version);
    }

    @Override
    public synchronized boolean add(IssuedKey key) {
        if (keys.containsKey(key.id())) {
            return false;
        }
        Map<String, IssuedKey> next = new LinkedHashMap<>(keys);
        next.put(key.id(), key);
        save(next, used);
        keys.put(key.id(), key);
        version++;
        return true;
    }

    @Override
    public synchronized boolean remove(String id) {
        if (!keys.containsKey(id)) {
            return false;
        }
        Map<String, IssuedKey> next = new LinkedHashMap<>(keys);
        next.remove(id);
        Map<String, Long> nextUsed = new HashMap<>(used);
        nextUsed.remove(id);
        save(next, nextUsed);
        keys.remove(id);
        used.remove(id);
        version++;
        return true;
    }

    @Override
    public synchronized void recordUse(Map<String, Long> lastUsed) {
        Map<String, Long> next = new HashMap<>(used);
        lastUsed.forEach((id, ms) -> next.merge(id, ms, Math::max));
        if (next.equals(used)) {
            return;
        }
        try {
            save(keys, next);
            used.clear();
            used.putAll(next);
        } catch (CoordinationUnavailable e) {
            // Last-use times are a convenience: kept in memory until the next flush can write them.
        }
    }

    @Override
    public synchronized Map<String, Long> lastUsed() {
        return Map.copyOf(used);
    }

    @Override
    public String where() {
        return state.resolve(FILE).toString();
    }

    private void save(Map<String, IssuedKey> next, Map<String, Long> nextUsed) {
        ObjectNode root = mapper.createObjectNode();
        root.put("version", 1);
        ArrayNode list = root.putArray("keys");
        next.values().forEach(key -> list.add(key.toJson(mapper)));
        ObjectNode times = root.putObject("last_used");
        nextUsed.forEach(times::put);
        state.writeDocument(FILE, mapper.writerWithDefaultPrettyPrinter(), root, "The client keys");
    }

    private InvalidConfigurationException unreadable(String why) {
        return new InvalidConfigurationException(List.of(state.resolve(FILE) + " cannot be read as client keys ("
                + why + "); " + state.restoreHint(FILE) + ", or fix it by hand. Removing it revokes every key made "
                + "through POST /admin/keys."));
    }
}

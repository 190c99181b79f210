package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.VersionedHash;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The policies shared by every replica: {@code <prefix>:capacity:policies}, a hash of recipe to document (each names
 * its {@code recipe}), and {@code <prefix>:capacity:policies:version}, a counter every write increments
 * ({@link VersionedHash}). As the schedule does: a snapshot is one Lua step, a write a second one that stores only if
 * the counter has not moved, and reads cost one {@code GET} while nothing changes.
 */
public final class RedisCapacityPolicyStore implements CapacityPolicyStore {

    private static final Logger LOG = Logger.getLogger(RedisCapacityPolicyStore.class);

    /** ARGV: the version decided on, the recipe, its document. */
    private static final String WRITE = """
            if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return -1 end
            redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
            return redis.call('INCR', KEYS[2])
            """;

    private final StateStore store;
    private final ObjectMapper mapper;
    private final VersionedHash hash;
    private volatile Snapshot cached;

    public RedisCapacityPolicyStore(StateStore store, ObjectMapper mapper) {
        this.store = store;
        this.mapper = mapper;
        this.hash = new VersionedHash(store, mapper, "capacity:policies", "a capacity policy");
    }

    @Override
    public Snapshot read() {
        Snapshot last = cached;
        if (last != null && last.version().equals(hash.version())) {
            return last;
        }
        List<String> problems = new ArrayList<>();
        VersionedHash.Snapshot<Map.Entry<String, JsonNode>> read = hash.read(json -> {
            if (!json.path("recipe").isTextual()) {
                throw new IllegalArgumentException("no \"recipe\"");
            }
            return Map.entry(json.get("recipe").asText(), json);
        }, problems);
        problems.forEach(problem -> LOG.errorf("Capacity: %s; left out", problem));
        Map<String, JsonNode> policies = new LinkedHashMap<>();
        read.entries().forEach(e -> policies.put(e.getKey(), e.getValue()));
        Snapshot fresh = new Snapshot(read.version(), Map.copyOf(policies));
        cached = fresh;
        return fresh;
    }

    @Override
    public boolean write(String expected, String recipe, JsonNode document) {
        String json;
        try {
            json = mapper.writeValueAsString(document);
        } catch (IOException e) {
            throw new IllegalStateException("a capacity policy could not be serialized", e);
        }
        return store.eval(WRITE, List.of(hash.hash(), hash.counter()), expected, recipe, json).toLong() >= 0;
    }

    @Override
    public String where() {
        return hash.where();
    }
}

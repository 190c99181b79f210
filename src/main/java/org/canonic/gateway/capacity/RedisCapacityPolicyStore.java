package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.StateStore;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The policies shared by every replica: {@code <prefix>:capacity:policies}, a hash of recipe to document, and
 * {@code <prefix>:capacity:policies:version}, a counter every write increments. As the schedule does: a snapshot is
 * one Lua step (counter and hash together), a write a second one that stores only if the counter has not moved, and
 * reads cost one {@code GET} while nothing changes.
 */
public final class RedisCapacityPolicyStore implements CapacityPolicyStore {

    private static final Logger LOG = Logger.getLogger(RedisCapacityPolicyStore.class);

    private static final String SNAPSHOT = """
            return {redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}
            """;
    /** ARGV: the version decided on, the recipe, its document. */
    private static final String WRITE = """
            if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return -1 end
            redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
            return redis.call('INCR', KEYS[2])
            """;

    private final StateStore store;
    private final ObjectMapper mapper;
    private final String hash;
    private final String counter;
    private volatile Snapshot cached;

    public RedisCapacityPolicyStore(StateStore store, ObjectMapper mapper) {
        this.store = store;
        this.mapper = mapper;
        this.hash = store.key("capacity:policies");
        this.counter = store.key("capacity:policies:version");
    }

    @Override
    public Snapshot read() {
        Snapshot last = cached;
        Response version = store.call(Command.GET, counter);
        String now = version == null ? "0" : version.toString();
        if (last != null && last.version().equals(now)) {
            return last;
        }
        Response answer = store.eval(SNAPSHOT, List.of(hash, counter));
        Response pairs = answer.get(1);
        Map<String, JsonNode> policies = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.size(); i += 2) {
            String recipe = pairs.get(i).toString();
            try {
                policies.put(recipe, mapper.readTree(pairs.get(i + 1).toString()));
            } catch (IOException e) {
                LOG.errorf("Capacity: the policy of %s in %s is not JSON; left out (fix it or HDEL it)", recipe,
                        where());
            }
        }
        Snapshot fresh = new Snapshot(answer.get(0).toString(), Map.copyOf(policies));
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
        return store.eval(WRITE, List.of(hash, counter), expected, recipe, json).toLong() >= 0;
    }

    @Override
    public String where() {
        return store.where() + " key " + hash;
    }
}

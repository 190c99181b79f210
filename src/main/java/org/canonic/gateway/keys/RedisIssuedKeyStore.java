package org.canonic.gateway.keys;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.redis.client.Response;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.VersionedHash;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The issued keys shared by every replica: {@code <prefix>:client-keys} (a hash of id to key JSON, digest only),
 * {@code <prefix>:client-keys:version} (a counter every change increments, so replicas re-read only when it moved)
 * and {@code <prefix>:client-keys:used} (id to last-use time). A change is one Lua step and is announced on the
 * {@value #CHANNEL} channel; replicas also compare the counter every few seconds, so a message lost while one was cut
 * off from Redis delays a revocation by seconds, not forever.
 */
public final class RedisIssuedKeyStore implements IssuedKeyStore {

    public static final String CHANNEL = "client-keys";

    private static final Logger LOG = Logger.getLogger(RedisIssuedKeyStore.class);

    private static final String ADD = """
            if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
            redis.call('INCR', KEYS[2])
            return 1
            """;
    private static final String REMOVE = """
            if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
            redis.call('HDEL', KEYS[3], ARGV[1])
            redis.call('INCR', KEYS[2])
            return 1
            """;
    /** ARGV: (id, ms) pairs; keeps the later time of each. */
    private static final String USED = """
            for i = 1, #ARGV, 2 do
              local old = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
              if tonumber(ARGV[i + 1]) > old then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
            end
            return 1
            """;

    private final StateStore store;
    private final ObjectMapper mapper;
    private final VersionedHash keys;
    private final String hash;
    private final String counter;
    private final String used;

    /** @throws InvalidConfigurationException when a stored key cannot be read: the start stops, naming it */
    public RedisIssuedKeyStore(StateStore store, ObjectMapper mapper) {
        this.store = store;
        this.mapper = mapper;
        this.keys = new VersionedHash(store, mapper, "client-keys", "a client key");
        this.hash = keys.hash();
        this.counter = keys.counter();
        this.used = store.key("client-keys:used");
        List<String> problems = new ArrayList<>();
        read(problems);
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
    }

    @Override
    public Contents load() {
        List<String> problems = new ArrayList<>();
        Contents contents = read(problems);
        // A key that cannot be read is left out: refused, never accepted by accident.
        problems.forEach(problem -> LOG.errorf("Client keys: %s; the key is refused", problem));
        return contents;
    }

    private Contents read(List<String> problems) {
        VersionedHash.Snapshot<IssuedKey> snapshot = keys.read(IssuedKey::fromJson, problems);
        return new Contents(snapshot.version(), snapshot.entries());
    }

    @Override
    public String version() {
        return keys.version();
    }

    @Override
    public boolean add(IssuedKey key) {
        String json;
        try {
            json = mapper.writeValueAsString(key.toJson(mapper));
        } catch (IOException e) {
            throw new IllegalStateException("a client key could not be serialized", e);
        }
        boolean added = store.eval(ADD, List.of(hash, counter), key.id(), json).toInteger() == 1;
        if (added) {
            announce();
        }
        return added;
    }

    @Override
    public boolean remove(String id) {
        boolean removed = store.eval(REMOVE, List.of(hash, counter, used), id).toInteger() == 1;
        if (removed) {
            announce();
        }
        return removed;
    }

    /** Best effort: the other replicas also notice the moved counter within a few seconds. */
    private void announce() {
        try {
            store.publish(CHANNEL, "changed");
        } catch (RuntimeException e) {
            LOG.debugf("Client key change not announced (%s); the replicas' version check will see it", e.toString());
        }
    }

    @Override
    public void recordUse(Map<String, Long> lastUsed) {
        if (lastUsed.isEmpty()) {
            return;
        }
        List<Object> args = new ArrayList<>();
        lastUsed.forEach((id, ms) -> {
            args.add(id);
            args.add(ms);
        });
        store.eval(USED, List.of(used), args.toArray());
    }

    @Override
    public Map<String, Long> lastUsed() {
        // Through Lua: a flat list of pairs whichever protocol (RESP2 or 3) the connection speaks.
        Response pairs = store.eval("return redis.call('HGETALL', KEYS[1])", List.of(used));
        Map<String, Long> times = new HashMap<>();
        for (int i = 0; pairs != null && i + 1 < pairs.size(); i += 2) {
            try {
                times.put(pairs.get(i).toString(), Long.parseLong(pairs.get(i + 1).toString()));
            } catch (NumberFormatException e) {
                // not a time: ignored
            }
        }
        return times;
    }

    @Override
    public String where() {
        return keys.where();
    }
}

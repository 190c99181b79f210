package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.StateStore;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The registrations shared by every replica: {@code <prefix>:backends}, a hash of name to registration JSON, and
 * {@code <prefix>:routes}, the route orders as JSON. A save writes this replica's registrations, deletes only those
 * it knew and no longer has (so two replicas registering different backends at once keep both), and publishes on
 * the {@value #CHANNEL} channel, all in one Lua step; every replica then re-reads the whole hash and applies the
 * difference ({@link Fleet#applyShared}), also after each reconnection, since messages sent meanwhile are lost.
 */
public final class RedisRegistrationStore implements RegistrationStore {

    /** The channel a change is announced on (under the key prefix). */
    public static final String CHANNEL = "backends:changed";

    private static final String SAVE = """
            redis.call('SET', KEYS[2], ARGV[1])
            local n = tonumber(ARGV[3])
            for i = 0, n - 1 do
              redis.call('HSET', KEYS[1], ARGV[4 + 2 * i], ARGV[5 + 2 * i])
            end
            for i = 4 + 2 * n, #ARGV do
              redis.call('HDEL', KEYS[1], ARGV[i])
            end
            redis.call('PUBLISH', ARGV[2], 'changed')
            return 1
            """;

    private final StateStore store;
    private final ObjectMapper mapper;
    /** The names this replica last read or wrote: what a save may delete. */
    private final Set<String> known = new HashSet<>();
    /** Whether the shared registry was seen or written by this replica: then its absence means Redis lost it. */
    private boolean seen;
    private boolean lost;

    public RedisRegistrationStore(StateStore store, ObjectMapper mapper) {
        this.store = store;
        this.mapper = mapper;
    }

    @Override
    public synchronized Contents load(List<String> problems) {
        Response hash = store.call(Command.HGETALL, store.key("backends"));
        Response routes = store.call(Command.GET, store.key("routes"));
        lost = routes == null && seen;
        seen |= routes != null;
        ObjectNode root = mapper.createObjectNode();
        ArrayNode list = root.putArray("backends");
        for (String name : hash.getKeys()) {
            try {
                list.add(mapper.readTree(hash.get(name).toString()));
            } catch (IOException e) {
                problems.add("registered backend " + name + " in the shared state store is not JSON");
            }
        }
        if (routes != null) {
            try {
                root.set("routes", mapper.readTree(routes.toString()));
            } catch (IOException e) {
                problems.add("the route order in the shared state store is not JSON");
            }
        }
        Contents contents = FileRegistrationStore.parse(root, store.where(), problems);
        known.clear();
        contents.backends().forEach(r -> known.add(r.definition().name()));
        return contents;
    }

    @Override
    public synchronized void save(List<BackendRegistration> backends, Map<String, List<String>> routeOrder)
            throws IOException {
        ObjectNode order = mapper.createObjectNode();
        routeOrder.forEach((route, names) -> {
            ArrayNode array = order.putArray(route);
            names.forEach(array::add);
        });
        List<Object> args = new ArrayList<>(List.of(mapper.writeValueAsString(order), store.key(CHANNEL),
                backends.size()));
        Set<String> names = new HashSet<>();
        for (BackendRegistration backend : backends) {
            names.add(backend.definition().name());
            args.add(backend.definition().name());
            args.add(mapper.writeValueAsString(backend.toJson()));
        }
        known.stream().filter(name -> !names.contains(name)).forEach(args::add);
        store.eval(SAVE, List.of(store.key("backends"), store.key("routes")), args.toArray());
        known.clear();
        known.addAll(names);
        seen = true;
    }

    /**
     * True when the last {@link #load} found no registry although this replica had seen one: Redis restarted
     * without its data. The replicas then store what they know again instead of taking the emptiness as "every
     * backend was deregistered".
     */
    public synchronized boolean lost() {
        return lost;
    }
}

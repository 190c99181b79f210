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
 * the {@value #CHANNEL} channel, all in one Lua step (refused when a name new to this replica was registered on
 * another one meanwhile); every replica then re-reads the whole hash and applies the
 * difference ({@link Fleet#applyShared}), also after each reconnection, since messages sent meanwhile are lost.
 */
public final class RedisRegistrationStore implements RegistrationStore {

    /** The channel a change is announced on (under the key prefix). */
    public static final String CHANNEL = "backends:changed";

    /**
     * ARGV: route orders, channel, n, m, then n (name, json) pairs, then m names new to this replica (which must not
     * exist yet: another replica may have taken the name a moment ago), then the names to delete.
     */
    private static final String SAVE = """
            local n = tonumber(ARGV[3])
            local m = tonumber(ARGV[4])
            local first = 5 + 2 * n
            for i = first, first + m - 1 do
              if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then return ARGV[i] end
            end
            redis.call('SET', KEYS[2], ARGV[1])
            for i = 0, n - 1 do
              redis.call('HSET', KEYS[1], ARGV[5 + 2 * i], ARGV[6 + 2 * i])
            end
            for i = first + m, #ARGV do
              redis.call('HDEL', KEYS[1], ARGV[i])
            end
            redis.call('PUBLISH', ARGV[2], 'changed')
            return ''
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
        if (!lost) {
            // After a loss the names stay known, so that storing them again merges with what another replica
            // stored again meanwhile instead of being refused as taken.
            known.clear();
            contents.backends().forEach(r -> known.add(r.definition().name()));
        }
        return contents;
    }

    /** @throws FleetException 409 {@code backend_exists} when another replica registered a new name first */
    @Override
    public synchronized void save(List<BackendRegistration> backends, Map<String, List<String>> routeOrder)
            throws IOException {
        ObjectNode order = mapper.createObjectNode();
        routeOrder.forEach((route, names) -> {
            ArrayNode array = order.putArray(route);
            names.forEach(array::add);
        });
        Set<String> names = new HashSet<>();
        List<String> added = new ArrayList<>();
        List<Object> args = new ArrayList<>(List.of(mapper.writeValueAsString(order), store.key(CHANNEL),
                backends.size(), 0));
        for (BackendRegistration backend : backends) {
            String name = backend.definition().name();
            names.add(name);
            if (!known.contains(name)) {
                added.add(name);
            }
            args.add(name);
            args.add(mapper.writeValueAsString(backend.toJson()));
        }
        args.set(3, added.size());
        args.addAll(added);
        known.stream().filter(name -> !names.contains(name)).forEach(args::add);
        String taken = store.eval(SAVE, List.of(store.key("backends"), store.key("routes")), args.toArray())
                .toString();
        if (!taken.isEmpty()) {
            // Registered on another replica an instant ago, not yet applied here: one owner per name.
            throw new FleetException(409, "backend_exists", "A backend named '" + taken + "' was just registered "
                    + "on another replica; choose another name.");
        }
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

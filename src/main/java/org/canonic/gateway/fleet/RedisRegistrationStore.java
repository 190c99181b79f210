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
 * The registrations shared by every replica: {@code <prefix>:backends}, a hash of name to registration JSON,
 * {@code <prefix>:routes}, the route orders as JSON, and {@code <prefix>:backends:version}, a counter every change
 * raises. A save is a compare-and-set against the version this replica last read or wrote, in one Lua step: when
 * another replica changed the registry since, nothing is written and the change is refused (409
 * {@value #CONFLICT}), so what one replica answered 2xx is never overwritten by another's stale view. Within the
 * step it writes this replica's registrations, deletes only those it knew and no longer has (a registration it
 * could not resolve stays), refuses a name new to it that exists already, and publishes on the {@value #CHANNEL}
 * channel; every replica then re-reads the whole registry (one atomic read) and applies it under the fleet's monitor
 * ({@link Fleet#syncShared}), also after each reconnection, since messages sent meanwhile are lost.
 */
public final class RedisRegistrationStore implements RegistrationStore {

    /** The channel a change is announced on (under the key prefix). */
    public static final String CHANNEL = "backends:changed";
    /** The error code of a change that lost a race with another replica's. */
    public static final String CONFLICT = "registry_changed";

    /** The registry, its route orders and its version, in one read. */
    private static final String LOAD = """
            return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2]), redis.call('GET', KEYS[3])}
            """;

    /**
     * ARGV: expected version ('' to merge after a loss: no comparison, nothing deleted, nothing overwritten), route
     * orders, channel, n, m, then n (name, json) pairs, then m names new to this replica (which must not exist yet),
     * then the names to delete. Returns {'ok', version}, {'changed', version} or {'taken', name}.
     */
    private static final String SAVE = """
            local current = tonumber(redis.call('GET', KEYS[3]) or '0')
            local merge = ARGV[1] == ''
            if not merge and current ~= tonumber(ARGV[1]) then return {'changed', tostring(current)} end
            local n = tonumber(ARGV[4])
            local m = tonumber(ARGV[5])
            local first = 6 + 2 * n
            if not merge then
              for i = first, first + m - 1 do
                if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then return {'taken', ARGV[i]} end
              end
            end
            if merge then
              redis.call('SET', KEYS[2], ARGV[2], 'NX')
              for i = 0, n - 1 do
                redis.call('HSETNX', KEYS[1], ARGV[6 + 2 * i], ARGV[7 + 2 * i])
              end
            else
              redis.call('SET', KEYS[2], ARGV[2])
              for i = 0, n - 1 do
                redis.call('HSET', KEYS[1], ARGV[6 + 2 * i], ARGV[7 + 2 * i])
              end
              for i = first + m, #ARGV do
                redis.call('HDEL', KEYS[1], ARGV[i])
              end
            end
            local version = redis.call('INCR', KEYS[3])
            redis.call('PUBLISH', ARGV[3], 'changed')
            return {'ok', tostring(version)}
            """;

    private final StateStore store;
    private final ObjectMapper mapper;
    /** The names this replica last read or wrote: what a save may delete. */
    private final Set<String> known = new HashSet<>();
    /** Names whose entries the last read could not use (not JSON, not a registration): never deleted from here. */
    private final Set<String> unreadable = new HashSet<>();
    /** The registry's version this replica last read or wrote: what a save compares against. */
    private long version;
    /** Whether the shared registry was seen or written by this replica: then its absence means Redis lost it. */
    private boolean seen;
    private boolean lost;

    public RedisRegistrationStore(StateStore store, ObjectMapper mapper) {
        this.store = store;
        this.mapper = mapper;
    }

    private List<String> keys() {
        return List.of(store.key("backends"), store.key("routes"), store.key("backends:version"));
    }

    @Override
    public synchronized Contents load(List<String> problems) {
        Response read = store.eval(LOAD, keys());
        Response hash = read.get(0);
        Response routes = read.get(1);
        Response stored = read.get(2);
        lost = routes == null && seen;
        seen |= routes != null;
        ObjectNode root = mapper.createObjectNode();
        ArrayNode list = root.putArray("backends");
        for (int i = 0; i + 1 < hash.size(); i += 2) {
            String name = hash.get(i).toString();
            try {
                list.add(mapper.readTree(hash.get(i + 1).toString()));
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
        version = stored == null ? 0 : stored.toLong();
        if (!lost) {
            // After a loss the names stay known, so that storing them again merges with what another replica
            // stored again meanwhile instead of being refused as taken.
            known.clear();
            unreadable.clear();
            for (int i = 0; i + 1 < hash.size(); i += 2) {
                known.add(hash.get(i).toString());
            }
            // An entry that cannot be read here is reported, never deleted by this replica's next save: read as
            // "not registered", the save would make the loss permanent.
            unreadable.addAll(known);
            contents.backends().forEach(r -> unreadable.remove(r.definition().name()));
        }
        return contents;
    }

    /**
     * @throws FleetException 409 {@value #CONFLICT} when another replica changed the registry since this replica
     *                        last read it, 409 {@code backend_exists} when it registered a name new here
     */
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
        List<Object> args = new ArrayList<>(List.of(lost ? "" : Long.toString(version),
                mapper.writeValueAsString(order), store.key(CHANNEL), backends.size(), 0));
        for (BackendRegistration backend : backends) {
            String name = backend.definition().name();
            names.add(name);
            if (!known.contains(name)) {
                added.add(name);
            }
            args.add(name);
            args.add(mapper.writeValueAsString(backend.toJson()));
        }
        args.set(4, added.size());
        args.addAll(added);
        known.stream().filter(name -> !names.contains(name) && !unreadable.contains(name)).forEach(args::add);
        Response answer = store.eval(SAVE, keys(), args.toArray());
        String outcome = answer.get(0).toString();
        if ("taken".equals(outcome)) {
            // Registered on another replica an instant ago, not yet applied here: one owner per name.
            throw new FleetException(409, "backend_exists", "A backend named '" + answer.get(1) + "' was just "
                    + "registered on another replica; choose another name.");
        }
        if ("changed".equals(outcome)) {
            throw new FleetException(409, CONFLICT, "The backend registry was changed on another replica a moment "
                    + "ago, so this change was not made; retry it (this replica applies that change within a moment).");
        }
        version = answer.get(1).toLong();
        if (!lost) {
            known.clear();
        }
        known.addAll(names);
        lost = false;
        seen = true;
    }

    /**
     * True when the last {@link #load} found no registry although this replica had seen one: Redis restarted
     * without its data. The replicas then store what they know again instead of taking the emptiness as "every
     * backend was deregistered".
     */
    @Override
    public synchronized boolean lost() {
        return lost;
    }
}

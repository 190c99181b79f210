package org.canonic.gateway.state;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A hash of id to entry JSON beside a version counter that every change raises ({@code <name>} and
 * {@code <name>:version} under the key prefix): the shape the shared client keys and schedule keep on Redis. A read
 * is one Lua step that returns both together, so the entries always belong to the version returned with them, and
 * a replica that cached a snapshot needs one {@code GET} of the counter to know whether it is still current.
 * Writing stays with the stores: their compare-and-set scripts differ.
 */
public final class VersionedHash {

    /** Entries as parsed by the store's own parser; one that throws is reported, never taken half-read. */
    @FunctionalInterface
    public interface EntryParser<T> {
        T parse(JsonNode json);
    }

    public record Snapshot<T>(String version, List<T> entries) {
    }

    private static final String SNAPSHOT = """
            return {redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}
            """;

    private final StateStore store;
    private final ObjectMapper mapper;
    private final String hash;
    private final String counter;
    private final String what;

    /** @param what what one entry is, for the problems ("a client key") */
    public VersionedHash(StateStore store, ObjectMapper mapper, String name, String what) {
        this.store = store;
        this.mapper = mapper;
        this.hash = store.key(name);
        this.counter = store.key(name + ":version");
        this.what = what;
    }

    public String hash() {
        return hash;
    }

    public String counter() {
        return counter;
    }

    public String where() {
        return store.where() + " key " + hash;
    }

    /** The counter alone; "0" before the first change. */
    public String version() {
        Response version = store.call(Command.GET, counter);
        return version == null ? "0" : version.toString();
    }

    /**
     * The entries and their version in one read. An entry that is not JSON or that the parser refuses is left out
     * and named in {@code problems} with how to clear it.
     */
    public <T> Snapshot<T> read(EntryParser<T> parser, List<String> problems) {
        Response answer = store.eval(SNAPSHOT, List.of(hash, counter));
        String version = answer.get(0).toString();
        Response pairs = answer.get(1);
        List<T> entries = new ArrayList<>();
        for (int i = 0; i + 1 < pairs.size(); i += 2) {
            String id = pairs.get(i).toString();
            try {
                entries.add(parser.parse(mapper.readTree(pairs.get(i + 1).toString())));
            } catch (IOException | IllegalArgumentException e) {
                problems.add("entry " + id + " of " + where() + " cannot be read as " + what + " ("
                        + (e instanceof IOException ? "not JSON" : e.getMessage()) + "); fix or delete it (HDEL)");
            }
        }
        return new Snapshot<>(version, List.copyOf(entries));
    }
}

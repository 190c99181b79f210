package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.StateDirectory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The policies one process set through the API: {@code capacity-policies.json} in the state directory,
 * {@code {"version":1,"policies":{recipe:document}}}, replaced atomically on every change. Read once at start; a file
 * that is there but cannot be read stops the start, naming it, rather than forget the policies.
 */
public final class FileCapacityPolicyStore implements CapacityPolicyStore {

    public static final String FILE = "capacity-policies.json";

    private final StateDirectory state;
    private final ObjectMapper mapper;
    private final Map<String, JsonNode> policies = new LinkedHashMap<>();
    private long version;

    /** @throws InvalidConfigurationException when the file exists but cannot be read as policies */
    public FileCapacityPolicyStore(StateDirectory state, ObjectMapper mapper) {
        this.state = state;
        this.mapper = mapper;
        Optional<JsonNode> stored = state.readDocument(FILE, mapper, this::unreadable);
        if (stored.isPresent()) {
            JsonNode root = stored.get();
            if (!root.path("policies").isObject()) {
                throw unreadable("no \"policies\" object");
            }
            root.get("policies").fields().forEachRemaining(e -> policies.put(e.getKey(), e.getValue()));
        }
    }

    @Override
    public synchronized Snapshot read() {
        return new Snapshot(Long.toString(version), Map.copyOf(policies));
    }

    @Override
    public synchronized boolean write(String expected, String recipe, JsonNode document) {
        if (!expected.equals(Long.toString(version))) {
            return false;
        }
        Map<String, JsonNode> next = new LinkedHashMap<>(policies);
        next.put(recipe, document);
        ObjectNode root = mapper.createObjectNode();
        root.put("version", 1);
        ObjectNode list = root.putObject("policies");
        next.forEach(list::set);
        state.writeDocument(FILE, mapper.writerWithDefaultPrettyPrinter(), root, "The capacity policies");
        policies.put(recipe, document);
        version++;
        return true;
    }

    @Override
    public String where() {
        return state.resolve(FILE).toString();
    }

    private InvalidConfigurationException unreadable(String why) {
        return new InvalidConfigurationException(List.of(state.resolve(FILE) + " cannot be read as capacity policies ("
                + why + "); " + state.restoreHint(FILE) + ", or fix it by hand. Removing it forgets the policies set "
                + "through the API."));
    }
}

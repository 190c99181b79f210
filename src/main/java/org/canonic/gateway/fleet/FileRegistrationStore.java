package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.canonic.gateway.coordination.StateDirectory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Optional;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps the backends registered through the admin API, and the order of every route, in {@code backends.json} in
 * the state directory, so that they survive a restart. The file is replaced atomically: a crash leaves the old file
 * or the new one, never half of one. It never holds a key, only references to keys.
 */
public final class FileRegistrationStore implements RegistrationStore {

    static final String FILE = "backends.json";

    private final StateDirectory state;
    private final ObjectMapper mapper;

    public FileRegistrationStore(StateDirectory state, ObjectMapper mapper) {
        this.state = state;
        this.mapper = mapper;
    }

    public Path file() {
        return state.resolve(FILE);
    }

    /** Reads the file (empty when there is none); an unreadable or malformed file adds a problem. */
    @Override
    public Contents load(List<String> problems) {
        Path file = file();
        JsonNode root;
        try {
            Optional<byte[]> stored = state.read(FILE);
            if (stored.isEmpty()) {
                return Contents.EMPTY;
            }
            root = mapper.readTree(stored.get());
        } catch (IOException e) {
            problems.add(file + " cannot be read as JSON (" + e.getClass().getSimpleName()
                    + "); fix or remove it to start");
            return Contents.EMPTY;
        }
        return parse(root, file.toString(), problems);
    }

    /** Registrations and route orders from {@code {"backends":[...],"routes":{...}}}; {@code where} names the source. */
    static Contents parse(JsonNode root, String where, List<String> problems) {
        List<BackendRegistration> backends = new ArrayList<>();
        for (JsonNode backend : root.path("backends")) {
            List<String> own = new ArrayList<>();
            BackendRegistration registration = BackendRegistration.parse(backend, own);
            if (own.isEmpty()) {
                backends.add(registration);
            } else {
                problems.add("registered backend " + backend.path("name").asText("?") + " in " + where + ": "
                        + String.join("; ", own));
            }
        }
        Map<String, List<String>> order = new LinkedHashMap<>();
        root.path("routes").fields().forEachRemaining(route -> {
            List<String> names = new ArrayList<>();
            route.getValue().forEach(name -> names.add(name.asText()));
            order.put(route.getKey(), names);
        });
        return new Contents(backends, order);
    }

    /** Replaces the file with the given registrations and route orders. */
    @Override
    public void save(List<BackendRegistration> backends, Map<String, List<String>> routeOrder) throws IOException {
        ObjectNode root = mapper.createObjectNode();
        root.put("version", 1);
        var list = root.putArray("backends");
        backends.forEach(backend -> list.add(backend.toJson()));
        ObjectNode routes = root.putObject("routes");
        routeOrder.forEach((route, names) -> names.forEach(routes.putArray(route)::add));
        state.writeAtomically(FILE, mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(root));
    }
}

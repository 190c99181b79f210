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
 * or the new one, never half of one, and the last file written is kept beside it as {@code backends.json.prev}. It
 * never holds a key, only references to keys.
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

    /**
     * Reads the file (empty when there is none). A file that is not the registry this class writes (empty, not
     * JSON, {@code {}}, {@code null}, another shape, NUL bytes) adds a problem that names it and the copy kept
     * beside it: read as "no registrations", the next save would make the loss permanent.
     */
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
            problems.add(file + " cannot be read as JSON (" + e.getClass().getSimpleName() + "); "
                    + state.restoreHint(FILE) + ". Removing it starts with no registered backends.");
            return Contents.EMPTY;
        }
        String wrong = shapeProblem(root);
        if (wrong != null) {
            problems.add(file + " is not a backend registry (" + wrong + "); " + state.restoreHint(FILE)
                    + ". Removing it starts with no registered backends.");
            return Contents.EMPTY;
        }
        return parse(root, file.toString(), problems);
    }

    /** What is wrong with the shape {@link #save} writes, or null: {"version":1,"backends":[{..}],"routes":{..}}. */
    private static String shapeProblem(JsonNode root) {
        if (root == null || !root.isObject()) {
            return root == null || root.isMissingNode() ? "empty" : "not a JSON object";
        }
        if (!root.path("version").isIntegralNumber() || root.path("version").asInt() != 1) {
            return "no \"version\": 1";
        }
        if (!root.path("backends").isArray()) {
            return "no \"backends\" list";
        }
        for (JsonNode backend : root.get("backends")) {
            if (!backend.isObject()) {
                return "a backend that is not an object";
            }
        }
        if (!root.path("routes").isObject()) {
            return "no \"routes\" object";
        }
        for (JsonNode names : root.get("routes")) {
            if (!names.isArray()) {
                return "a route order that is not a list";
            }
            for (JsonNode name : names) {
                if (!name.isTextual()) {
                    return "a route order with a name that is not a text";
                }
            }
        }
        return null;
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

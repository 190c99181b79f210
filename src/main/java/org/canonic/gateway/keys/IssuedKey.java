package org.canonic.gateway.keys;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.policy.ClientKeys;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A client key made through {@code POST /admin/keys}, as it is stored: its id, the SHA-256 of the key (the key itself
 * is shown once to its creator and never kept), the routes it may use (empty = all) and when it was made. Read and
 * written as a JSON tree, so no class is bound by reflection.
 */
public record IssuedKey(String id, String sha256, List<String> routes, Instant created) {

    /** Key ids and route names: what fits in a log line, a metric label and a key file entry without quoting. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public IssuedKey {
        routes = List.copyOf(routes);
    }

    /** The entry the key check uses. */
    ClientKeys.Entry entry() {
        return new ClientKeys.Entry(id, HexFormat.of().parseHex(sha256), Set.copyOf(routes));
    }

    ObjectNode toJson(ObjectMapper mapper) {
        ObjectNode node = mapper.createObjectNode();
        node.put("id", id);
        node.put("sha256", sha256);
        routes.forEach(node.putArray("routes")::add);
        node.put("created", created.toString());
        return node;
    }

    /** @throws IllegalArgumentException naming what is wrong (never a hash) */
    static IssuedKey fromJson(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("not an object");
        }
        String id = node.path("id").asText("");
        if (!NAME.matcher(id).matches()) {
            throw new IllegalArgumentException("an id that is not 1 to 64 characters of A-Z a-z 0-9 . _ -");
        }
        String hash = node.path("sha256").asText("").toLowerCase(Locale.ROOT);
        if (!hash.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("key " + id + " has no sha256 of 64 hex digits");
        }
        List<String> routes = new ArrayList<>();
        for (JsonNode route : node.path("routes")) {
            if (!route.isTextual() || !NAME.matcher(route.asText()).matches()) {
                throw new IllegalArgumentException("key " + id + " has a route that is not a name");
            }
            routes.add(route.asText());
        }
        Instant created;
        try {
            created = Instant.parse(node.path("created").asText(""));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("key " + id + " has no readable creation time");
        }
        return new IssuedKey(id, hash, routes, created);
    }
}

package org.canonic.gateway.policy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The client keys the gateway accepts. Every key is kept only as its SHA-256, and a presented key is checked
 * against every entry with a constant-time comparison, so neither the keys nor their position leak through
 * timing. Only key ids ever leave this class.
 */
public final class ClientKeys {

    /** An accepted key: its id, the SHA-256 of the key, and the routes it may use (empty = all). */
    public record Entry(String id, byte[] sha256, Set<String> routes) {

        public boolean allows(String route) {
            return routes.isEmpty() || routes.contains(route);
        }
    }

    private final List<Entry> entries;

    private ClientKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static ClientKeys of(List<Entry> entries) {
        return new ClientKeys(entries);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    /** The entry whose key was presented, if any. Always looks at every entry. */
    public Optional<Entry> match(String presentedKey) {
        byte[] presented = sha256(presentedKey);
        Entry found = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.sha256(), presented) && found == null) {
                found = entry;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Parses entries ({@code id:key}, {@code id:key:route+route}, {@code id:sha256:<64 hex>[:routes]}), one per
     * element. {@code ids} holds the ids taken so far (by this source or an earlier one): an id may be used once.
     * Problems are added to {@code problems} without ever quoting a key.
     */
    public static List<Entry> parse(List<String> lines, String source, Set<String> ids, List<String> problems) {
        List<Entry> entries = new ArrayList<>();
        int number = 0;
        for (String raw : lines) {
            number++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split(":", -1);
            String where = source + " entry " + number;
            if (parts.length < 2 || parts[0].isBlank()) {
                problems.add(where + " must be id:key, id:key:routes or id:sha256:<hex>[:routes]");
                continue;
            }
            String id = parts[0].strip();
            byte[] hash;
            int routesAt;
            if (parts.length >= 3 && parts[1].equalsIgnoreCase("sha256")) {
                try {
                    hash = HexFormat.of().parseHex(parts[2].strip().toLowerCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    hash = new byte[0];
                }
                if (hash.length != 32) {
                    problems.add(where + " (id " + id + ") has a sha256 that is not 64 hex digits");
                    continue;
                }
                routesAt = 3;
            } else {
                if (parts[1].strip().length() < 16) {
                    problems.add(where + " (id " + id + ") has a key shorter than 16 characters");
                    continue;
                }
                hash = sha256(parts[1].strip());
                routesAt = 2;
            }
            if (parts.length > routesAt + 1) {
                problems.add(where + " (id " + id + ") has too many ':' separated parts");
                continue;
            }
            Set<String> routes = parts.length > routesAt && !parts[routesAt].isBlank()
                    ? Set.of(parts[routesAt].strip().split("\\s*\\+\\s*"))
                    : Set.of();
            if (!ids.add(id)) {
                problems.add(where + ": the key id " + id + " is used twice");
                continue;
            }
            entries.add(new Entry(id, hash, routes));
        }
        return entries;
    }

    /**
     * One digest per thread: every request hashes the key it presents, and looking the algorithm up through the
     * security providers each time cost more than hashing (it showed in the request path's profile).
     */
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    });

    public static byte[] sha256(String value) {
        return SHA256.get().digest(value.getBytes(StandardCharsets.UTF_8));
    }
}

package org.canonic.gateway.policy;

import org.canonic.gateway.config.GuardConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Reads client keys from {@code GATEWAY_API_KEYS} and the file named by {@code GATEWAY_API_KEYS_FILE}: at start-up,
 * and again (the file) whenever it changes.
 */
public final class KeyLoader {

    private KeyLoader() {
    }

    /** The keys, with every problem (never quoting a key) added to {@code problems}. */
    public static ClientKeys load(GuardConfig.Auth auth, List<String> problems) {
        Set<String> ids = new HashSet<>();
        List<ClientKeys.Entry> entries = new ArrayList<>(fromEnvironment(auth, ids, problems));
        file(auth).ifPresent(file -> {
            try {
                entries.addAll(fromFile(file, ids, problems));
            } catch (IOException e) {
                problems.add("GATEWAY_API_KEYS_FILE " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
            }
        });
        checkMode(auth, !entries.isEmpty(), problems);
        return ClientKeys.of(entries);
    }

    /** The entries of {@code GATEWAY_API_KEYS}; their ids are added to {@code ids}. */
    public static List<ClientKeys.Entry> fromEnvironment(GuardConfig.Auth auth, Set<String> ids, List<String> problems) {
        return auth.keys().map(String::strip).filter(keys -> !keys.isEmpty())
                .map(keys -> ClientKeys.parse(Arrays.asList(keys.split(",")), "GATEWAY_API_KEYS", ids, problems))
                .orElse(List.of());
    }

    /** The key file, when one is configured. */
    public static Optional<Path> file(GuardConfig.Auth auth) {
        return auth.keysFile().map(String::strip).filter(file -> !file.isEmpty()).map(Path::of);
    }

    /** The entries of the key file; ids already in {@code ids} are problems, new ones are added to it. */
    public static List<ClientKeys.Entry> fromFile(Path file, Set<String> ids, List<String> problems)
            throws IOException {
        return ClientKeys.parse(Files.readAllLines(file), "GATEWAY_API_KEYS_FILE", ids, problems);
    }

    /** A mode that is neither {@code keys} nor {@code none}, or {@code keys} without any key, is a problem. */
    public static void checkMode(GuardConfig.Auth auth, boolean anyKeys, List<String> problems) {
        String mode = auth.mode().strip().toLowerCase(Locale.ROOT);
        if (!mode.equals("keys") && !mode.equals("none")) {
            problems.add("gateway.auth.mode (GATEWAY_AUTH) must be 'keys' or 'none', got '" + auth.mode() + "'");
        } else if (mode.equals("keys") && !anyKeys) {
            problems.add("no client keys: set GATEWAY_API_KEYS (id:key,...) or GATEWAY_API_KEYS_FILE, or run without "
                    + "authentication by setting GATEWAY_AUTH=none explicitly");
        }
    }

    /** Whether requests must carry a key. */
    public static boolean required(GuardConfig.Auth auth) {
        return !auth.mode().strip().equalsIgnoreCase("none");
    }
}

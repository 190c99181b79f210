package org.canonic.gateway.policy;

import org.canonic.gateway.config.GuardConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Loads client keys at start-up from {@code GATEWAY_API_KEYS} and the file named by {@code GATEWAY_API_KEYS_FILE}. */
public final class KeyLoader {

    private KeyLoader() {
    }

    /** The keys, with every problem (never quoting a key) added to {@code problems}. */
    public static ClientKeys load(GuardConfig.Auth auth, List<String> problems) {
        List<ClientKeys.Entry> entries = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        auth.keys().map(String::strip).filter(keys -> !keys.isEmpty()).ifPresent(keys ->
                entries.addAll(ClientKeys.parse(Arrays.asList(keys.split(",")), "GATEWAY_API_KEYS", ids, problems)));
        auth.keysFile().map(String::strip).filter(file -> !file.isEmpty()).ifPresent(file -> {
            try {
                entries.addAll(ClientKeys.parse(Files.readAllLines(Path.of(file)), "GATEWAY_API_KEYS_FILE", ids, problems));
            } catch (IOException e) {
                problems.add("GATEWAY_API_KEYS_FILE " + file + " cannot be read (" + e.getClass().getSimpleName() + ")");
            }
        });
        String mode = auth.mode().strip().toLowerCase(java.util.Locale.ROOT);
        if (!mode.equals("keys") && !mode.equals("none")) {
            problems.add("gateway.auth.mode (GATEWAY_AUTH) must be 'keys' or 'none', got '" + auth.mode() + "'");
        } else if (mode.equals("keys") && entries.isEmpty()) {
            problems.add("no client keys: set GATEWAY_API_KEYS (id:key,...) or GATEWAY_API_KEYS_FILE, or run without "
                    + "authentication by setting GATEWAY_AUTH=none explicitly");
        }
        return ClientKeys.of(entries);
    }

    /** Whether requests must carry a key. */
    public static boolean required(GuardConfig.Auth auth) {
        return !auth.mode().strip().equalsIgnoreCase("none");
    }
}

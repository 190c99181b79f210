package org.canonic.gateway.coordination;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A secret given either directly (an environment variable) or as a mounted file (Docker/Kubernetes secrets), never
 * both: two sources that disagree would leave the operator guessing which one is in force.
 */
public final class SecretSource {

    private SecretSource() {
    }

    /**
     * The secret, trimmed; empty when neither source is set. Problems (both set, unreadable or empty file) are added
     * to {@code problems} and never contain the secret.
     *
     * @param name     how the operator knows the direct setting, e.g. {@code GATEWAY_ADMIN_TOKEN}
     * @param fileName how the operator knows the file setting, e.g. {@code GATEWAY_ADMIN_TOKEN_FILE}
     */
    public static Optional<String> resolve(Optional<String> value, Optional<String> file, String name, String fileName,
                                           List<String> problems) {
        Optional<String> direct = value.map(String::strip).filter(v -> !v.isEmpty());
        Optional<String> path = file.map(String::strip).filter(v -> !v.isEmpty());
        if (direct.isPresent() && path.isPresent()) {
            problems.add(name + " and " + fileName + " are both set; set only one of them");
            return Optional.empty();
        }
        if (path.isEmpty()) {
            return direct;
        }
        try {
            String content = Files.readString(Path.of(path.get()), StandardCharsets.UTF_8).strip();
            if (content.isEmpty()) {
                problems.add(fileName + " names an empty file: " + path.get());
                return Optional.empty();
            }
            return Optional.of(content);
        } catch (IOException | RuntimeException e) {
            problems.add(fileName + " names a file that cannot be read: " + path.get() + " ("
                    + e.getClass().getSimpleName() + ")");
            return Optional.empty();
        }
    }
}

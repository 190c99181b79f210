package org.canonic.gateway.compute;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * The vLLM {@code --api-key} of every rented instance: generated here (SecureRandom, 256 bits), kept as an
 * owner-only file {@code compute-keys/<instance>.key} in the state directory, and referenced by the backend's
 * {@code api_key_file}. The key itself goes to the provider in the launch arguments and nowhere else.
 */
public final class InstanceKeys {

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Path dir;

    public InstanceKeys(Path stateDir) {
        this.dir = stateDir.resolve("compute-keys");
    }

    /** Creates the key file (owner read/write only, in an owner-only directory) and answers the key. */
    public String create(String instance) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            posix(dir, "rwx------");
        }
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String key = "mg-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        Path file = path(instance);
        Files.deleteIfExists(file);
        Files.createFile(file);
        posix(file, "rw-------");
        Files.writeString(file, key, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        return key;
    }

    public Optional<String> read(String instance) {
        try {
            return Optional.of(Files.readString(path(instance), StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public void delete(String instance) {
        try {
            Files.deleteIfExists(path(instance));
        } catch (IOException e) {
            // A stale key of a destroyed instance opens nothing.
        }
    }

    public Path path(String instance) {
        if (!instance.matches("[a-z0-9][a-z0-9._-]{0,62}")) {
            throw new IllegalArgumentException("not an instance name");
        }
        return dir.resolve(instance + ".key");
    }

    private static void posix(Path path, String permissions) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system; nothing finer to set.
        }
    }
}

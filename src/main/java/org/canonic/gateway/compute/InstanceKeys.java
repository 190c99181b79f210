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

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.SealedValues;
import org.canonic.gateway.state.StateStore;

/**
 * The vLLM {@code --api-key} of every rented instance: generated here (SecureRandom, 256 bits), kept as an
 * owner-only file {@code compute-keys/<instance>.key} in the state directory, and referenced by the backend's
 * {@code api_key_file}. The key itself goes to the provider in the launch arguments and nowhere else. With a shared
 * state store it is also kept in Redis ({@code <prefix>:instance-keys}), because the replica that launched an
 * instance is not always the one that registers it (the leader) or serves it: another replica writes its own
 * owner-only file from there when it first needs the key. There it is sealed ({@link SealedValues}, the replicas'
 * {@code GATEWAY_STATE_KEY_FILE}): Redis holds no usable key.
 */
public final class InstanceKeys {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(InstanceKeys.class);
    private final Path dir;
    private final StateStore store;
    private final SealedValues sealed;

    public InstanceKeys(Path stateDir) {
        this(stateDir, null, null);
    }

    /**
     * @param sealed seals the shared copies; required when {@code store} is shared (a shared store without it keeps
     *               no copy, so keys stay on the replica that made them)
     */
    public InstanceKeys(Path stateDir, StateStore store, SealedValues sealed) {
        this.dir = stateDir.resolve(org.canonic.gateway.fleet.KeyPolicy.COMPUTE_KEYS_DIR);
        this.store = store != null && store.shared() && sealed != null ? store : null;
        this.sealed = sealed;
    }

    /**
     * Creates the key file (owner read/write only, in an owner-only directory) and answers the key.
     *
     * @throws org.canonic.gateway.state.StateStoreUnavailable when a shared store cannot keep it (nothing launched)
     */
    public String create(String instance) throws IOException {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String key = "mg-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        write(instance, key);
        if (store != null) {
            store.call(Command.HSET, store.key("instance-keys"), instance, sealed.seal(key, instance));
        }
        return key;
    }

    /** The key: this replica's file, else (shared store) the shared copy, written to a file here first. */
    public Optional<String> read(String instance) {
        try {
            return Optional.of(Files.readString(path(instance), StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            if (store == null) {
                return Optional.empty();
            }
        }
        try {
            Optional<String> key = shared("instance-keys", instance).map(s -> sealed.open(s, instance));
            if (key.isPresent()) {
                write(instance, key.get());
            }
            return key;
        } catch (IllegalArgumentException e) {
            LOG.errorf("The shared key of %s does not open: %s", instance, e.getMessage());
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public void delete(String instance) {
        try {
            Files.deleteIfExists(path(instance));
            Files.deleteIfExists(certificatePath(instance));
            if (store != null) {
                store.call(Command.HDEL, store.key("instance-keys"), instance);
                store.call(Command.HDEL, store.key("instance-certificates"), instance);
            }
        } catch (IOException | RuntimeException e) {
            // A stale key of a destroyed instance opens nothing; its certificate pins nothing once it is gone.
        }
    }

    /**
     * Keeps the certificate an instance serves TLS with ({@link InstanceTls}): {@code compute-keys/<instance>.crt}
     * here, and in the shared store (a certificate is public: not sealed) for the replica that registers it.
     */
    public void saveCertificate(String instance, String pem) throws IOException {
        ownerOnlyDirectory();
        Files.writeString(certificatePath(instance), pem, StandardCharsets.US_ASCII);
        if (store != null) {
            store.call(Command.HSET, store.key("instance-certificates"), instance, pem);
        }
    }

    /**
     * The file of the certificate the instance serves TLS with, written here from the shared store if another
     * replica launched it; empty for an instance without one (launched before TLS, or on a provider whose own
     * HTTPS fronts it).
     */
    public Optional<Path> certificate(String instance) {
        Path file = certificatePath(instance);
        if (Files.isRegularFile(file)) {
            return Optional.of(file);
        }
        if (store == null) {
            return Optional.empty();
        }
        try {
            Optional<String> pem = shared("instance-certificates", instance);
            if (pem.isPresent()) {
                saveCertificate(instance, pem.get());
            }
            return pem.map(p -> file);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The shared store's copy in {@code hash}, as stored. */
    private Optional<String> shared(String hash, String instance) {
        Response value = store.call(Command.HGET, store.key(hash), instance);
        return value == null ? Optional.empty() : Optional.of(value.toString());
    }

    Path certificatePath(String instance) {
        return path(instance).resolveSibling(instance + ".crt");
    }

    private void ownerOnlyDirectory() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            posix(dir, "rwx------");
        }
    }

    private void write(String instance, String key) throws IOException {
        ownerOnlyDirectory();
        Path file = path(instance);
        Files.deleteIfExists(file);
        Files.createFile(file);
        posix(file, "rw-------");
        Files.writeString(file, key, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
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

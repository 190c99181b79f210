package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.state.StateStoreConfig;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The directory holding what must survive a restart ({@code GATEWAY_STATE_DIR}): the lock and its fencing counter,
 * the audit log. Checked at start-up, because a gateway that cannot persist its fencing counter would hand out
 * numbers that go backwards after a restart: better not to start at all.
 */
@Startup
@Singleton
public class StateDirectory {

    /** The suffix of the copy {@link #writeAtomically} keeps beside each file. */
    public static final String PREVIOUS_SUFFIX = ".prev";

    private static final Logger LOG = Logger.getLogger(StateDirectory.class);

    private final Path dir;

    /** This process's hold on the directory with the embedded store (null with Redis, or when built by hand). */
    private StateDirectoryClaim claim;

    @Inject
    StateDirectory(GatewayConfig config, StateStoreConfig store) {
        this(Path.of(config.state().dir().strip()));
        if (store.store() == StateStoreConfig.Kind.EMBEDDED) {
            claim = StateDirectoryClaim.take(dir);
        }
    }

    @PreDestroy
    void release() {
        if (claim != null) {
            claim.close();
        }
    }

    /**
     * Opens (and creates if missing) the directory.
     *
     * @throws InvalidConfigurationException if it is not a writable directory
     */
    public StateDirectory(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.dir);
            // Files.isWritable answers from permission bits; only a real file proves a read-only mount wrong.
            Path probe = Files.createTempFile(this.dir, ".probe-", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new InvalidConfigurationException(List.of("GATEWAY_STATE_DIR (gateway.state.dir) '" + this.dir
                    + "' must be a writable directory: " + describe(e)));
        }
    }

    /** The directory, absolute. */
    public Path path() {
        return dir;
    }

    /** A file in the directory. */
    public Path resolve(String name) {
        Path file = dir.resolve(name).normalize();
        if (!file.getParent().equals(dir)) {
            throw new IllegalArgumentException("not a plain file name: " + name);
        }
        return file;
    }

    /**
     * Writes a state document as {@link #writeAtomically} does, for a change that must not be answered as made unless
     * it is on disk: any failure (serialising, a full or read-only directory) is logged and thrown as 503
     * {@value CoordinationUnavailable#STATE}, "{@code what} cannot be written to the state directory".
     */
    public void writeDocument(String name, ObjectWriter writer, JsonNode document, String what) {
        try {
            writeAtomically(name, writer.writeValueAsBytes(document));
        } catch (IOException | RuntimeException e) {
            LOG.errorf("Cannot write %s: %s", resolve(name), e.toString());
            throw new CoordinationUnavailable(CoordinationUnavailable.STATE, what + " cannot be written to the state "
                    + "directory, so the change was not made; see the gateway log.", e);
        }
    }

    /**
     * Replaces {@code name} with {@code content} so that a reader (or a crash) sees either the old or the new
     * content, never a mix: written to a temporary file in the same directory, forced to disk, then renamed over
     * the target atomically, and the directory entry forced too. A copy is then kept beside it
     * ({@code name}{@value #PREVIOUS_SUFFIX}), for the operator to restore should the file be damaged later.
     */
    public void writeAtomically(String name, byte[] content) throws IOException {
        replace(resolve(name), content);
        // The copy follows the file: if the file is later damaged (by hand, by a disk), the copy is what the gateway
        // last wrote. Best effort: the change itself is made and durable already.
        try {
            replace(previous(name), content);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Could not keep the copy %s of %s: %s", previous(name), name, e.toString());
        }
    }

    /** The copy of {@code name} kept beside it: what the gateway last wrote there successfully. */
    public Path previous(String name) {
        return resolve(name + PREVIOUS_SUFFIX);
    }

    /**
     * What a start refused for a damaged {@code name} tells the operator about the copy kept beside it, for the
     * message that names the damaged file.
     */
    public String restoreHint(String name) {
        Path copy = previous(name);
        return Files.isRegularFile(copy)
                ? "the last copy the gateway wrote is " + copy + ": check it, then copy it over " + resolve(name)
                + " to restore it"
                : "no copy is kept beside it yet (" + copy + " is written on each save from this version on): "
                + "restore it from a backup";
    }

    private void replace(Path target, byte[] content) throws IOException {
        String name = target.getFileName().toString();
        Path temp = Files.createTempFile(dir, "." + name + ".", ".tmp");
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the state directory does not support atomic renames: " + dir, e);
            }
            forceDirectory();
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * The JSON document {@code name} (the reading twin of {@link #writeDocument}), or empty when the file does not
     * exist; a file that cannot be read or is not JSON is refused through {@code unreadable}, given why (the
     * exception's name, or "not JSON"), so that each store names itself and its way back.
     */
    public Optional<JsonNode> readDocument(String name, ObjectMapper mapper,
                                           Function<String, ? extends RuntimeException> unreadable) {
        Optional<byte[]> stored;
        try {
            stored = read(name);
        } catch (IOException e) {
            throw unreadable.apply(e.getClass().getSimpleName());
        }
        if (stored.isEmpty()) {
            return Optional.empty();
        }
        try {
            JsonNode document = mapper.readTree(stored.get());
            // An empty file is there but holds nothing: missing, so the store's own shape check refuses it.
            return Optional.of(document == null ? MissingNode.getInstance() : document);
        } catch (IOException e) {
            throw unreadable.apply("not JSON");
        }
    }

    /** The content of {@code name}, or empty when the file does not exist. */
    public Optional<byte[]> read(String name) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(resolve(name)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Makes a rename durable: on Linux the new directory entry is on disk only once the directory is synced. */
    void forceDirectory() {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a directory; the rename itself has happened.
        }
    }

    private static String describe(Exception e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
    }
}

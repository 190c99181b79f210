package org.canonic.gateway.coordination;

import org.canonic.gateway.config.InvalidConfigurationException;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;

/**
 * One gateway process per state directory with the embedded store: an exclusive lock on {@value #FILE}, held for the
 * process's life and released by the operating system when it dies (so a crashed process never blocks its successor).
 * A second process that finds the lock held by a live one refuses to start, naming it: two replicas on one embedded
 * store would each grant the maintenance lock, keep their own daily cap and overwrite each other's files (a Compose
 * service scaled to two on one volume, a Kubernetes volume shared by two pods, a second {@code java -jar}).
 *
 * <p>Replicas that do not share a directory cannot see each other this way; the deploy bundles are checked for that
 * instead ({@code DeployFilesTest}: more than one replica only with {@code GATEWAY_STATE_STORE=redis}).
 */
public final class StateDirectoryClaim implements AutoCloseable {

    public static final String FILE = ".gateway-owner.lock";

    private static final Logger LOG = Logger.getLogger(StateDirectoryClaim.class);

    private final FileChannel channel;
    private final FileLock lock;

    private StateDirectoryClaim(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the directory for this process.
     *
     * @throws InvalidConfigurationException when another live process holds it
     */
    public static StateDirectoryClaim take(Path dir) {
        Path file = dir.resolve(FILE);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                // This very process holds it (an application restarted in one JVM, as tests do): not another replica.
                channel.close();
                LOG.debugf("The state directory %s is held by this process already", dir);
                return new StateDirectoryClaim(null, null);
            }
            if (lock == null) {
                String holder = read(channel);
                channel.close();
                throw new InvalidConfigurationException(List.of("another gateway process uses the state directory "
                        + dir + " with the embedded state store (" + (holder.isBlank() ? "it holds " + file
                        : holder) + "): replicas on one embedded store would each grant the maintenance lock and spend "
                        + "their own daily cap. Give this process its own GATEWAY_STATE_DIR, or share state between "
                        + "replicas with GATEWAY_STATE_STORE=redis"));
            }
            // Who holds it, for the message of the one refused (written through the locked channel only: closing
            // another descriptor of this file would drop the lock).
            byte[] who = ("pid " + ProcessHandle.current().pid() + " on " + host() + " since " + Instant.now())
                    .getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(who), 0);
            channel.force(false);
            return new StateDirectoryClaim(channel, lock);
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing held
                }
            }
            throw new InvalidConfigurationException(List.of("GATEWAY_STATE_DIR " + dir + ": " + file.getFileName()
                    + " cannot be locked (" + e.getClass().getSimpleName() + ")"));
        }
    }

    private static String read(FileChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(256);
        channel.read(buffer, 0);
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).strip();
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "this host";
        }
    }

    @Override
    public void close() {
        try {
            if (lock != null) {
                lock.release();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // the process is stopping; the system drops the lock with it
        }
    }
}

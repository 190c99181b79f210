package org.canonic.gateway.coordination;

import org.canonic.gateway.config.InvalidConfigurationException;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One process per state directory with the embedded store: a second process is refused while the first lives, naming
 * it, and takes the directory as soon as the first is gone (the system drops a dead process's lock).
 */
class StateDirectoryClaimTest {

    /** Another JVM that claims the directory as the gateway does, says so, and holds it until killed. */
    private static final String HOLDER = """
            import java.nio.ByteBuffer;
            import java.nio.channels.FileChannel;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;
            public class Holder {
                public static void main(String[] args) throws Exception {
                    FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.CREATE,
                            StandardOpenOption.READ, StandardOpenOption.WRITE);
                    if (channel.tryLock() == null) { System.out.println("busy"); return; }
                    channel.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + " on test").getBytes()), 0);
                    System.out.println("held");
                    Thread.sleep(60_000);
                }
            }
            """;

    @Test
    void aSecondLiveProcessOnTheSameDirectoryIsRefusedAndTheNextOneAfterItDiesIsNot() throws Exception {
        Path dir = Files.createTempDirectory("claimed-state");
        Path source = Files.writeString(Files.createTempDirectory("holder").resolve("Holder.java"), HOLDER);
        Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                source.toString(), dir.resolve(StateDirectoryClaim.FILE).toString()).redirectErrorStream(true).start();
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                    StandardCharsets.UTF_8));
            assertEquals("held", output.readLine());

            InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class,
                    () -> StateDirectoryClaim.take(dir));
            assertTrue(refused.getMessage().contains("another gateway process uses the state directory")
                    && refused.getMessage().contains("pid " + holder.pid())
                    && refused.getMessage().contains("GATEWAY_STATE_STORE=redis"), refused.getMessage());
        } finally {
            holder.destroyForcibly();
            holder.waitFor(10, TimeUnit.SECONDS);
        }
        try (StateDirectoryClaim claim = StateDirectoryClaim.take(dir)) {
            String owner = Files.readString(dir.resolve(StateDirectoryClaim.FILE));
            assertTrue(owner.startsWith("pid " + ProcessHandle.current().pid() + " on "), owner);
        }
    }
}

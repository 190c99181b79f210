package org.canonic.gateway.config;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The ledger must be writable before the first request is served: a ledger that silently writes nothing is worse
 * than a gateway that does not start. The check creates the directory and the file (empty) as the writer would.
 */
final class LedgerPathCheck {

    private LedgerPathCheck() {
    }

    static void check(String setting, List<String> problems) {
        Path path;
        try {
            path = Path.of(setting);
        } catch (InvalidPathException e) {
            problems.add(problem(setting, "it is not a valid path"));
            return;
        }
        if (Files.isDirectory(path)) {
            problems.add(problem(setting, "it is a directory; name a file in it"));
            return;
        }
        if (Files.exists(path) && !Files.isRegularFile(path)) {
            // A pipe or a device (a log shipper's FIFO, say): opening it here could block; writability must do.
            if (!Files.isWritable(path)) {
                problems.add(problem(setting, "it cannot be written"));
            }
            return;
        }
        try {
            if (path.toAbsolutePath().getParent() != null) {
                Files.createDirectories(path.toAbsolutePath().getParent());
            }
            try (FileChannel ignored = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                // Opened for appending, as the writer will: enough to prove it can.
            }
            if (!Files.isWritable(path.toAbsolutePath().getParent())) {
                problems.add(problem(setting, "its directory cannot be written, so the file cannot be rotated"));
            }
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            problems.add(problem(setting, e.getClass().getSimpleName() + (e.getMessage() == null ? ""
                    : ": " + e.getMessage())));
        }
    }

    private static String problem(String setting, String why) {
        return "the ledger path GATEWAY_LEDGER_PATH (gateway.telemetry.ledger.path) '" + setting + "' is not writable ("
                + why + "); fix the path or its permissions, or unset it to keep only the gateway.ledger log line";
    }
}

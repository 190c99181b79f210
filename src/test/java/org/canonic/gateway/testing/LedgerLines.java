package org.canonic.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Reads a ledger across its current and rotated files: lines by request id, for the ids a test sent. */
public final class LedgerLines {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private LedgerLines() {
    }

    /** Every ledger file in {@code dir} (the current one and every rotated one). */
    public static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("ledger.jsonl")).sorted().toList();
        }
    }

    /**
     * Lines whose request id starts with {@code prefix}, by id, across every file in {@code dir}. A file the writer
     * rotates between listing and reading is gone under its old name: the whole directory is read again.
     */
    public static Map<String, List<JsonNode>> read(Path dir, String prefix) throws IOException {
        while (true) {
            try {
                return readOnce(dir, prefix);
            } catch (NoSuchFileException rotatedAway) {
                // listed as ledger.jsonl, renamed to a rotated name before it was read: list again
            }
        }
    }

    private static Map<String, List<JsonNode>> readOnce(Path dir, String prefix) throws IOException {
        Map<String, List<JsonNode>> lines = new HashMap<>();
        for (Path file : files(dir)) {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode record;
                try {
                    record = MAPPER.readTree(line);
                } catch (IOException halfWritten) {
                    continue; // the writer is still appending this line; the next read sees it whole
                }
                String id = record.path("request_id").asText();
                if (id.startsWith(prefix)) {
                    lines.computeIfAbsent(id, k -> new ArrayList<>()).add(record);
                }
            }
        }
        return lines;
    }

    /** Waits until at least {@code n} ids with the prefix have lines, or fails after the timeout. */
    public static Map<String, List<JsonNode>> await(Path dir, String prefix, int n, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        Map<String, List<JsonNode>> lines = read(dir, prefix);
        while (lines.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("expected ledger lines for " + n + " requests, found " + lines.size());
            }
            Thread.sleep(50);
            lines = read(dir, prefix);
        }
        return lines;
    }
}

package org.canonic.gateway.telemetry;

import org.canonic.gateway.testing.LogCapture;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ledger is complete or says it is not: failed writes are counted and reported, rotation loses nothing. */
class LedgerWriterTest {

    static RequestRecord closed(String id) {
        RequestRecord record = new RequestRecord(id, System.nanoTime());
        record.request("k", "main", "main-model", "chat", false);
        record.close(Outcome.COMPLETED, 200, null);
        return record;
    }

    private static void awaitSettled(Ledger ledger, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (ledger.written() + ledger.dropped() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    /**
     * Issue 25, defect 9: a ledger file deleted while the gateway ran swallowed every later record into the unlinked
     * inode, counted as written. The writer notices (the path no longer names the file it holds open), reopens a
     * new file under the path, counts it and says so; nothing written after the deletion is lost.
     */
    @Test
    void aLedgerFileDeletedWhileRunningIsNoticedReopenedCountedAndLogged() throws Exception {
        Path file = Files.createTempDirectory("ledger-deleted").resolve("ledger.jsonl");
        try (LogCapture logs = LogCapture.start();
             Ledger ledger = new Ledger(Optional.of(file), 1000, 1 << 30)) {
            for (int i = 0; i < 10; i++) {
                ledger.offer(closed("before-" + i));
            }
            awaitSettled(ledger, 10);
            assertEquals(10, Files.readAllLines(file).size());

            Files.delete(file);
            int n = 100;
            for (int i = 0; i < n; i++) {
                ledger.offer(closed("after-" + i));
            }
            awaitSettled(ledger, 10 + n);
            assertEquals(10 + n, ledger.written());
            assertTrue(Files.exists(file), "a new file was opened under the ledger's path");
            List<String> lines = Files.readAllLines(file);
            assertEquals(n, lines.size(), "every record written after the deletion is in the new file");
            assertTrue(lines.get(0).contains("\"after-0\""), lines.get(0));
            assertEquals(1, ledger.reopened(), "the reopening is counted");
            assertTrue(logs.records().stream().anyMatch(r -> r.getLevel().intValue() >= Level.WARNING.intValue()
                    && message(r).contains("no longer") && message(r).contains(file.toString())),
                    "and logged as a warning naming the file");
        }
    }

    @Test
    void aFileThatCannotBeWrittenCountsEveryRecordAsDroppedKeepsEveryLogLineAndSaysSo() throws Exception {
        int n = 20;
        try (LogCapture logs = LogCapture.start();
             Ledger ledger = new Ledger(Optional.of(Path.of("/dev/full")), 100, 1 << 20)) {
            for (int i = 0; i < n; i++) {
                assertTrue(ledger.offer(closed("full-" + i)));
            }
            awaitSettled(ledger, n);
            assertEquals(0, ledger.written(), "nothing reached the file");
            assertEquals(n, ledger.dropped(), "every record that missed the file is counted");

            Set<String> logged = new HashSet<>();
            int reported = 0;
            for (LogRecord record : logs.records()) {
                String message = message(record);
                if ("gateway.ledger".equals(record.getLoggerName())) {
                    Matcher id = Pattern.compile("\"request_id\":\"(full-\\d+)\"").matcher(message);
                    if (id.find()) {
                        logged.add(id.group(1));
                    }
                } else if (record.getLevel().intValue() >= Level.WARNING.intValue() && message.contains("ledger")) {
                    Matcher count = Pattern.compile("(\\d+) record").matcher(message);
                    assertTrue(count.find(), "the report says how many: " + message);
                    reported += Integer.parseInt(count.group(1));
                    assertTrue(message.contains("full-"), "the report names the requests: " + message);
                }
            }
            assertEquals(n, logged.size(), "the structured log line of every record survives a failed write");
            assertEquals(n, reported, "the failures are reported with their counts");
        }
    }

    @Test
    void itsListenerHearsOfExactlyTheRecordsThatReachedTheLedger() throws Exception {
        List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.function.Consumer<List<RequestRecord>> listener = records -> records.forEach(r -> heard.add(
                r.requestId()));
        Path dir = Files.createTempDirectory("ledger-listener");
        try (Ledger ledger = new Ledger(Optional.of(dir.resolve("ledger.jsonl")), 100, 1 << 20, listener)) {
            for (int i = 0; i < 10; i++) {
                assertTrue(ledger.offer(closed("ok-" + i)));
            }
            awaitSettled(ledger, 10);
            assertEquals(10, ledger.written());
        }
        assertEquals(10, heard.size(), heard.toString());
        assertEquals(10, Files.readAllLines(dir.resolve("ledger.jsonl")).size());
        heard.clear();
        try (LogCapture logs = LogCapture.start();
             Ledger ledger = new Ledger(Optional.of(Path.of("/dev/full")), 100, 1 << 20, listener)) {
            for (int i = 0; i < 5; i++) {
                assertTrue(ledger.offer(closed("lost-" + i)));
            }
            awaitSettled(ledger, 5);
            assertEquals(5, ledger.dropped());
        }
        assertEquals(List.of(), heard, "a record that missed the file is not counted as used either");
    }

    @Test
    void rotationUnderConcurrentLoadKeepsEveryLineInUniquelyNamedFiles() throws Exception {
        Path dir = Files.createTempDirectory("ledger-rotation");
        int threads = 8;
        int perThread = 50;
        try (Ledger ledger = new Ledger(Optional.of(dir.resolve("ledger.jsonl")), 10_000, 1024)) {
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread writer = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        ledger.offer(closed("rot-" + thread + "-" + i));
                    }
                });
                writer.start();
                writers.add(writer);
            }
            for (Thread writer : writers) {
                writer.join();
            }
            awaitSettled(ledger, threads * perThread);
            assertEquals(threads * perThread, ledger.written());
            assertEquals(0, ledger.dropped());
        }
        Set<String> ids = new HashSet<>();
        int lines = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                for (String line : Files.readAllLines(file)) {
                    lines++;
                    Matcher id = Pattern.compile("\"request_id\":\"(rot-[\\d-]+)\"").matcher(line);
                    assertTrue(id.find(), line);
                    ids.add(id.group(1));
                }
            }
        }
        assertEquals(threads * perThread, lines, "no line lost or written twice");
        assertEquals(threads * perThread, ids.size());
    }

    @Test
    void aLineIsNeverOverwrittenByARotationInTheSameSecond() throws Exception {
        Path dir = Files.createTempDirectory("ledger-rotation");
        try (Ledger ledger = new Ledger(Optional.of(dir.resolve("ledger.jsonl")), 100, 300)) {
            for (int i = 0; i < 30; i++) {
                ledger.offer(closed("same-second-" + i));
                Thread.sleep(5);
            }
            awaitSettled(ledger, 30);
        }
        long lines = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                lines += Files.readAllLines(file).size();
            }
        }
        assertEquals(30, lines);
        assertFalse(Files.exists(dir.resolve("ledger.jsonl.tmp")));
    }

    private static String message(LogRecord record) {
        if (record instanceof org.jboss.logmanager.ExtLogRecord ext) {
            return ext.getFormattedMessage();
        }
        String message = record.getMessage();
        if (record.getParameters() != null) {
            for (Object parameter : record.getParameters()) {
                message += " " + parameter;
            }
        }
        return message;
    }
}

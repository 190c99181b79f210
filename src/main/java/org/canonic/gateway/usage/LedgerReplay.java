package org.canonic.gateway.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Rebuilds the usage aggregate at start from the ledger's files (the current one and its rotated siblings), so that
 * a restart keeps the day's numbers. Bounded twice: only lines that ended within the aggregate's retention count,
 * and only the newest files up to {@code maxBytes} are read (a file modified before the retention began is not
 * opened at all). Runs before the ledger writes its first line, so nothing is counted twice.
 */
public final class LedgerReplay {

    private static final Logger LOG = Logger.getLogger(LedgerReplay.class);

    private LedgerReplay() {
    }

    /** What was read: lines counted, lines outside the retention or unreadable, files read and files left out. */
    public record Result(long counted, long skipped, int files, int filesLeftOut) {
    }

    public static Result replay(Path ledger, UsageBook book, ObjectMapper mapper, long maxBytes, long nowMs) {
        long since = nowMs - book.retentionMs();
        List<Path> files = candidates(ledger, since);
        long budget = maxBytes;
        long counted = 0;
        long skipped = 0;
        int read = 0;
        int leftOut = 0;
        for (Path file : files) {
            long size;
            try {
                size = Files.size(file);
            } catch (IOException e) {
                continue;
            }
            if (size > budget) {
                leftOut++;
                continue;
            }
            budget -= size;
            read++;
            try (BufferedReader lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    UsageEvent event = parse(line, mapper);
                    if (event == null || event.endedAtMs() < since) {
                        skipped++;
                    } else {
                        book.add(event);
                        counted++;
                    }
                }
            } catch (IOException e) {
                LOG.warnf("Usage: the ledger file %s could not be read to the end (%s); the usage it holds is"
                        + " counted only as far as it was read", file, e.toString());
            }
        }
        if (leftOut > 0) {
            LOG.warnf("Usage: %d older ledger file(s) were not read at start: they exceed the rebuild bound"
                    + " (gateway.usage.rebuild-max-size); usage before them is not in the usage API", leftOut);
        }
        LOG.infof("Usage: rebuilt from %d ledger file(s): %d request(s) counted, %d line(s) outside the retention"
                + " or unreadable", read, counted, skipped);
        return new Result(counted, skipped, read, leftOut);
    }

    /** The ledger file and its rotated copies ({@code <name>.<stamp>-<seq>}) modified since {@code since}, newest first. */
    static List<Path> candidates(Path ledger, long since) {
        Path dir = ledger.toAbsolutePath().getParent();
        String name = ledger.getFileName().toString();
        if (dir == null || !Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (Stream<Path> list = Files.list(dir)) {
            list.filter(f -> {
                String n = f.getFileName().toString();
                return (n.equals(name) || n.startsWith(name + ".")) && Files.isRegularFile(f);
            }).forEach(found::add);
        } catch (IOException e) {
            LOG.warnf("Usage: the ledger directory %s could not be listed (%s); usage starts empty", dir, e.toString());
            return List.of();
        }
        List<Path> recent = new ArrayList<>();
        for (Path file : found) {
            if (modified(file) >= since) {
                recent.add(file);
            }
        }
        recent.sort(Comparator.comparingLong(LedgerReplay::modified).reversed());
        return recent;
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return Long.MIN_VALUE;
        }
    }

    private static UsageEvent parse(String line, ObjectMapper mapper) {
        if (line.isBlank()) {
            return null;
        }
        try {
            JsonNode node = mapper.readTree(line);
            return node != null && node.isObject() ? UsageEvent.of(node) : null;
        } catch (IOException e) {
            return null; // a line a crash cut in half: not a request the ledger holds
        }
    }
}

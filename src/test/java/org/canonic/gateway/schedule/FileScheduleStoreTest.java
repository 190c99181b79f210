package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.CoordinationUnavailable;
import org.canonic.gateway.coordination.StateDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.canonic.gateway.schedule.ScheduleFixtures.MAPPER;
import static org.canonic.gateway.schedule.ScheduleFixtures.T0;
import static org.canonic.gateway.schedule.ScheduleFixtures.maintenance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code schedule.json}: what survives a restart, and a file that cannot be read stops the start. */
class FileScheduleStoreTest {

    @TempDir
    Path dir;

    private FileScheduleStore store() {
        return new FileScheduleStore(new StateDirectory(dir), MAPPER);
    }

    @Test
    void entriesSurviveARestartExactlyAsStored() {
        ScheduleEntry window = maintenance("alpha", T0.plusSeconds(60), T0.plusSeconds(3600));
        ObjectNode details = MAPPER.createObjectNode().put("model", "qwen-32b");
        ScheduleEntry swap = new ScheduleEntry("sch_swap", ScheduleEntry.Kind.MODEL_SWAP,
                ScheduleEntry.TargetKind.ROUTE, "chat", T0, T0.plus(Duration.ofHours(2)), "bob <b>",
                "line one\nline two", details, ScheduleEntry.State.ACTIVE, T0, "ops", null);
        FileScheduleStore first = store();
        first.update(entries -> new ScheduleStore.Change<>(null, List.of(window, swap), List.of()));

        FileScheduleStore again = store();
        assertEquals(2, again.read().size());
        assertTrue(again.read().contains(window), again.read().toString());
        assertTrue(again.read().contains(swap), "details, note, holder and state come back as they were");

        again.update(entries -> new ScheduleStore.Change<>(null, List.of(), List.of(window.id())));
        assertEquals(List.of(swap), store().read());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(FileScheduleStore.FILE, FileScheduleStore.FILE + ".prev"), files
                    .map(f -> f.getFileName().toString()).filter(name -> name.contains("schedule")).sorted().toList(),
                    "no temporary file is left behind, only the last good copy");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aFileThatIsNotAScheduleStopsTheStartNamingIt() throws Exception {
        for (String content : List.of("{not json", "[]", "{\"entries\":{}}",
                "{\"entries\":[{\"id\":\"sch_1\",\"kind\":\"coffee\"}]}",
                "{\"entries\":[{\"id\":\"sch_1\",\"kind\":\"maintenance\",\"target_kind\":\"backend\","
                        + "\"target\":\"a\",\"starts_at\":\"2026-12-07T11:00:00Z\","
                        + "\"ends_at\":\"2026-12-07T10:00:00Z\","
                        + "\"holder\":\"x\",\"state\":\"planned\",\"created_at\":\"2026-12-07T10:00:00Z\","
                        + "\"created_by\":\"admin\"}]}")) {
            Files.writeString(dir.resolve(FileScheduleStore.FILE), content);
            InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class, this::store,
                    content);
            String message = String.join("\n", refused.problems());
            assertTrue(message.contains(dir.resolve(FileScheduleStore.FILE).toString())
                    && message.contains("cannot be read as a schedule"), message);
        }
    }

    @Test
    void aChangeThatCannotBeWrittenIsRefusedAndNotKept() throws Exception {
        FileScheduleStore store = store();
        ScheduleEntry window = maintenance("alpha", T0, T0.plusSeconds(60));
        // A directory where the file should be: the rename fails.
        Files.createDirectory(dir.resolve(FileScheduleStore.FILE));
        assertThrows(CoordinationUnavailable.class,
                () -> store.update(entries -> new ScheduleStore.Change<>(null, List.of(window), List.of())));
        assertEquals(List.of(), store.read());
    }
}

package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateDirectoryTest {

    @Test
    void aMissingDirectoryIsCreated(@TempDir Path tmp) {
        Path dir = tmp.resolve("a/b/state");
        StateDirectory state = new StateDirectory(dir);
        assertTrue(Files.isDirectory(dir));
        assertEquals(dir.toAbsolutePath(), state.path());
    }

    @Test
    void somethingThatIsNotAWritableDirectoryStopsTheStartWithAClearMessage(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        for (Path bad : new Path[]{file, file.resolve("below")}) {
            InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class,
                    () -> new StateDirectory(bad));
            assertTrue(refused.getMessage().contains("GATEWAY_STATE_DIR") && refused.getMessage()
                    .contains("must be a writable directory"), refused.getMessage());
        }
    }

    @Test
    void aDocumentIsReadAbsentOrRefusedSayingWhy(@TempDir Path tmp) throws Exception {
        StateDirectory state = new StateDirectory(tmp);
        ObjectMapper mapper = new ObjectMapper();
        java.util.function.Function<String, IllegalStateException> refuse = IllegalStateException::new;
        assertTrue(state.readDocument("doc.json", mapper, refuse).isEmpty(), "absent");
        Files.writeString(tmp.resolve("doc.json"), "{\"v\":1}");
        assertEquals(1, state.readDocument("doc.json", mapper, refuse).orElseThrow().path("v").asInt());
        Files.writeString(tmp.resolve("doc.json"), "{\"v\":");
        assertEquals("not JSON", assertThrows(IllegalStateException.class,
                () -> state.readDocument("doc.json", mapper, refuse)).getMessage());
        // Present but empty is not absent: the store's shape check sees a missing node and refuses it.
        Files.writeString(tmp.resolve("doc.json"), "");
        assertTrue(state.readDocument("doc.json", mapper, refuse).orElseThrow().isMissingNode());
        Files.delete(tmp.resolve("doc.json"));
        Files.createDirectory(tmp.resolve("doc.json"));
        assertTrue(assertThrows(IllegalStateException.class, () -> state.readDocument("doc.json", mapper, refuse))
                .getMessage().endsWith("Exception"));
    }

    @Test
    void writesReplaceAtomicallyAndLeaveNoTemporaryFiles(@TempDir Path tmp) throws Exception {
        StateDirectory state = new StateDirectory(tmp);
        assertTrue(state.read("lock.json").isEmpty());
        state.writeAtomically("lock.json", "{\"v\":1}".getBytes(StandardCharsets.UTF_8));
        state.writeAtomically("lock.json", "{\"v\":2}".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals("{\"v\":2}".getBytes(StandardCharsets.UTF_8), state.read("lock.json").orElseThrow());
        assertArrayEquals("{\"v\":2}".getBytes(StandardCharsets.UTF_8), state.read("lock.json.prev").orElseThrow(),
                "the last good copy is kept beside the file");
        assertEquals(tmp.resolve("lock.json.prev"), state.previous("lock.json"));
        try (Stream<Path> files = Files.list(tmp)) {
            assertEquals(2, files.count(), "only lock.json and its copy remain");
        }
        assertThrows(IllegalArgumentException.class, () -> state.resolve("../escape"));
    }
}

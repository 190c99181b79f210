package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.coordination.StateDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code backends.json} is never trusted as found: a file that is not the registry stops the start with a message
 * naming it and the last good copy beside it, instead of being read as "no registrations" (which the next save would
 * make permanent).
 */
class FileRegistrationStoreTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;

    private static BackendRegistration backend(String name) throws Exception {
        List<String> problems = new ArrayList<>();
        BackendRegistration registration = BackendRegistration.parse(MAPPER.readTree("{\"name\":\"" + name
                + "\",\"base_url\":\"http://10.0.0.9:8000/v1\",\"model\":\"m\",\"routes\":[\"chat\"]}"), problems);
        assertTrue(problems.isEmpty(), problems.toString());
        return registration;
    }

    @Test
    void aFileThatIsNotTheRegistryStopsTheStartNamingItAndItsLastGoodCopy() throws Exception {
        StateDirectory state = new StateDirectory(dir);
        FileRegistrationStore store = new FileRegistrationStore(state, MAPPER);
        store.save(List.of(backend("vast-1")), Map.of("chat", List.of("vast-1")));
        Path previous = dir.resolve("backends.json.prev");
        assertTrue(Files.isRegularFile(previous), "each successful save keeps a copy beside the file");
        byte[] good = Files.readAllBytes(store.file());

        Map<String, byte[]> bad = new java.util.LinkedHashMap<>();
        bad.put("empty", new byte[0]);
        bad.put("blank", "  \n".getBytes(StandardCharsets.UTF_8));
        bad.put("{}", "{}".getBytes(StandardCharsets.UTF_8));
        bad.put("null", "null".getBytes(StandardCharsets.UTF_8));
        bad.put("[]", "[]".getBytes(StandardCharsets.UTF_8));
        bad.put("a number", "42".getBytes(StandardCharsets.UTF_8));
        bad.put("NUL bytes", new byte[4096]);
        bad.put("backends not a list", "{\"version\":1,\"backends\":{},\"routes\":{}}".getBytes(StandardCharsets.UTF_8));
        bad.put("no routes", "{\"version\":1,\"backends\":[]}".getBytes(StandardCharsets.UTF_8));
        bad.put("routes a list", "{\"version\":1,\"backends\":[],\"routes\":[]}".getBytes(StandardCharsets.UTF_8));
        bad.put("a route not a list", "{\"version\":1,\"backends\":[],\"routes\":{\"chat\":\"x\"}}"
                .getBytes(StandardCharsets.UTF_8));
        bad.put("a backend not an object", "{\"version\":1,\"backends\":[7],\"routes\":{}}"
                .getBytes(StandardCharsets.UTF_8));
        bad.put("an unknown version", "{\"version\":2,\"backends\":[],\"routes\":{}}".getBytes(StandardCharsets.UTF_8));
        bad.put("truncated", java.util.Arrays.copyOf(good, good.length / 2));
        for (Map.Entry<String, byte[]> shape : bad.entrySet()) {
            Files.write(store.file(), shape.getValue());
            List<String> problems = new ArrayList<>();
            store.load(problems);
            assertEquals(1, problems.size(), shape.getKey() + ": " + problems);
            String message = problems.get(0);
            assertTrue(message.contains(store.file().toString()), shape.getKey() + ": " + message);
            assertTrue(message.contains(previous.toString()), shape.getKey() + " names the copy: " + message);
        }
        // The copy is what was last saved: restoring it gives the registration back.
        Files.copy(previous, store.file(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<String> problems = new ArrayList<>();
        RegistrationStore.Contents restored = store.load(problems);
        assertTrue(problems.isEmpty(), problems.toString());
        assertEquals("vast-1", restored.backends().get(0).definition().name());
    }

    @Test
    void anEmptyRegistryAsTheGatewayWritesItIsFineAndNoFileIsAFirstStart() throws Exception {
        StateDirectory state = new StateDirectory(dir);
        FileRegistrationStore store = new FileRegistrationStore(state, MAPPER);
        List<String> problems = new ArrayList<>();
        assertTrue(store.load(problems).backends().isEmpty());
        store.save(List.of(), Map.of());
        assertTrue(store.load(problems).backends().isEmpty());
        assertTrue(problems.isEmpty(), problems.toString());
    }
}

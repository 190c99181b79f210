package org.canonic.gateway.fleet;

import org.canonic.gateway.backend.Backend;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where key references may point, with the layouts secrets really come in. */
class KeyPolicyTest {

    @Test
    void aKubernetesSecretVolumeMadeOfLinksIsInsideItsDirectory() throws Exception {
        // kubelet: <dir>/key -> ..data/key, ..data -> ..2026_12_07_12_00_00.123/
        Path dir = Files.createTempDirectory("secrets");
        Path version = Files.createDirectory(dir.resolve("..2026_12_07_12_00_00.123"));
        Files.writeString(version.resolve("vllm-key"), "sk-from-a-volume-0042\n");
        Files.createSymbolicLink(dir.resolve("..data"), version.getFileName());
        Files.createSymbolicLink(dir.resolve("vllm-key"), Path.of("..data/vllm-key"));
        KeyPolicy policy = new KeyPolicy(List.of(dir), "gateway.secrets.dir", "BACKEND_KEY_");
        List<String> problems = new ArrayList<>();
        Optional<Backend.Secret> key = policy.resolve(new ApiKeyRef.File(dir.resolve("vllm-key").toString()),
                "api_key_file", true, problems, name -> null);
        assertEquals(List.of(), problems);
        assertEquals("sk-from-a-volume-0042", key.orElseThrow().value());

        // A link inside the directory that leads out of it is outside.
        Path outside = Files.writeString(Files.createTempFile("elsewhere", ".key"), "sk-elsewhere-0042");
        Files.createSymbolicLink(dir.resolve("escape"), outside);
        policy.resolve(new ApiKeyRef.File(dir.resolve("escape").toString()), "api_key_file", true, problems,
                name -> null);
        assertTrue(problems.size() == 1 && problems.get(0).contains("outside gateway.secrets.dir"),
                problems.toString());
    }

    @Test
    void aVariableWithThePrefixIsReadAndItsContentChecked() {
        KeyPolicy policy = new KeyPolicy(List.of(), "gateway.secrets.dir", "BACKEND_KEY_");
        Map<String, String> environment = Map.of("BACKEND_KEY_VAST7", " sk-vast7-0042 ", "BACKEND_KEY_LINES",
                "sk-a\nsk-b");
        List<String> problems = new ArrayList<>();
        assertEquals("sk-vast7-0042", policy.resolve(new ApiKeyRef.Env("BACKEND_KEY_VAST7"), "api_key_env", true,
                problems, environment::get).orElseThrow().value());
        policy.resolve(new ApiKeyRef.Env("BACKEND_KEY_LINES"), "api_key_env", true, problems, environment::get);
        assertTrue(problems.size() == 1 && problems.get(0).contains("not a key") && !problems.get(0).contains("sk-a"),
                problems.toString());
    }
}

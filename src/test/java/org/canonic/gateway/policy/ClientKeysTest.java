package org.canonic.gateway.policy;

import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientKeysTest {

    @Test
    void plainAndHashedEntriesMatchByKeyAndCarryTheirRoutes(@TempDir Path dir) throws Exception {
        String hashed = HexFormat.of().formatHex(ClientKeys.sha256("file-key-abcdefghijkl"));
        Path file = dir.resolve("keys");
        Files.writeString(file, "# team keys\nkilo:sha256:" + hashed + ":kilocode\n\nops:ops-key-0123456789abcdef\n");
        List<String> problems = new ArrayList<>();
        ClientKeys keys = KeyLoader.load(ConfigFixture.with("gateway.auth.keys", "ci:ci-key-0123456789abcdef",
                "gateway.auth.keys-file", file.toString()).build().auth(), problems);

        assertEquals(List.of(), problems);
        assertEquals(3, keys.size());
        assertEquals("ci", keys.match("ci-key-0123456789abcdef").orElseThrow().id());
        ClientKeys.Entry kilo = keys.match("file-key-abcdefghijkl").orElseThrow();
        assertEquals("kilo", kilo.id());
        assertTrue(kilo.allows("kilocode") && !kilo.allows("chat"));
        assertTrue(keys.match("ops-key-0123456789abcdef").orElseThrow().allows("chat"));
        assertTrue(keys.match("ci-key-0123456789abcdeX").isEmpty());
    }

    @Test
    void aKeyIdMayNotBeUsedInBothSources(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, "ci:file-key-abcdefghijkl\n");
        List<String> problems = new ArrayList<>();
        ClientKeys keys = KeyLoader.load(ConfigFixture.with("gateway.auth.keys", "ci:env-key-0123456789abcdef",
                "gateway.auth.keys-file", file.toString()).build().auth(), problems);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("GATEWAY_API_KEYS_FILE") && problems.get(0).contains("ci"), problems.get(0));
        assertTrue(keys.match("file-key-abcdefghijkl").isEmpty(), "the second use of an id is not accepted");
    }

    @Test
    void withoutKeysTheGatewayRefusesToStartUnlessAuthIsExplicitlyOff() {
        List<String> problems = new ArrayList<>();
        KeyLoader.load(ConfigFixture.with().build().auth(), problems);
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).contains("GATEWAY_AUTH=none"), problems.get(0));

        List<String> none = new ArrayList<>();
        KeyLoader.load(ConfigFixture.with("gateway.auth.mode", "none").build().auth(), none);
        assertEquals(List.of(), none);
    }

    @Test
    void badEntriesAreReportedWithoutQuotingAnyKey() {
        List<String> problems = new ArrayList<>();
        KeyLoader.load(ConfigFixture.with("gateway.auth.keys",
                "short:abc,dup:dup-key-0123456789ab,dup:dup-key-0123456789cd,bad:sha256:xyz,nocolon").build().auth(),
                problems);
        assertEquals(4, problems.size(), problems.toString());
        assertFalse(String.join(" ", problems).contains("dup-key-0123456789"), problems.toString());
    }
}

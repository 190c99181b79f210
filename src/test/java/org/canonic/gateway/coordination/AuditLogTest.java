package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuditLogTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void theCallerIsSanitizedAndBounded() {
        assertEquals("admin", AuditLog.caller(null));
        assertEquals("admin", AuditLog.caller("\n\r\t "));
        assertEquals("alice@example.org", AuditLog.caller("alice@example.org"));
        assertEquals("provisioner-1.ci_bot", AuditLog.caller("provisioner-1.ci_bot"));
        assertEquals("evilinjectedadminresultok", AuditLog.caller("evil\n{\"injected\":\"admin\",\"result\":\"ok\"}"));
        assertEquals(64, AuditLog.caller("x".repeat(500)).length());
    }

    @Test
    void recentLinesComeNewestFirstAndATornLastLineIsSkipped(@TempDir Path tmp) throws Exception {
        AuditLog audit = new AuditLog(new StateDirectory(tmp), MAPPER);
        assertTrue(audit.recent(5).isEmpty(), "no file yet");
        for (int i = 0; i < 30; i++) {
            audit.record("alice", "action." + i, "t", null, null, "ok", null);
        }
        Files.writeString(audit.file(), "{\"time\":\"2026-", java.nio.file.StandardOpenOption.APPEND);
        List<JsonNode> recent = audit.recent(3);
        assertEquals(List.of("action.29", "action.28", "action.27"),
                recent.stream().map(line -> line.path("action").asText()).toList());
        assertEquals(30, audit.recent(200).size());
    }

    @Test
    void eachRecordIsOneCompleteLineAppendedToWhatWasThere(@TempDir Path tmp) throws Exception {
        AuditLog audit = new AuditLog(new StateDirectory(tmp), MAPPER);
        audit.record("alice", "lock.acquire", "lock", null, MAPPER.readTree("{\"holder\":\"a\"}"), "ok", null);
        String first = Files.readString(audit.file());
        audit.record("bob", "lock.release", "lock", MAPPER.readTree("{\"holder\":\"a\"}"), null, "ok", 3L);
        String both = Files.readString(audit.file());
        assertTrue(both.startsWith(first), "only appended");

        List<String> lines = both.lines().toList();
        assertEquals(2, lines.size());
        JsonNode second = MAPPER.readTree(lines.get(1));
        assertEquals(List.of("time", "caller", "action", "target", "before", "after", "result", "lock"),
                iterable(second));
        Instant.parse(second.get("time").asText());
        assertTrue(second.get("time").asText().endsWith("Z"));
        assertEquals("bob", second.get("caller").asText());
        assertEquals(3, second.get("lock").asLong());
        assertTrue(MAPPER.readTree(lines.get(0)).get("lock").isNull());
        assertTrue(second.get("after").isNull());
    }

    @Test
    void anUnwritableLogIsAnErrorTheMutationMustFailOn(@TempDir Path tmp) throws Exception {
        AuditLog audit = new AuditLog(new StateDirectory(tmp), MAPPER);
        Files.createDirectory(audit.file()); // a directory where the file should be: no line can be appended
        CoordinationUnavailable refused = assertThrows(CoordinationUnavailable.class,
                () -> audit.record("a", "lock.acquire", "lock", null, null, "ok", null));
        assertEquals(CoordinationUnavailable.AUDIT, refused.code());
        audit.recordRefusal("a", "lock.acquire", "lock", null, "invalid_ttl", null); // logged, not thrown
    }

    private static List<String> iterable(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}

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

    @Test
    void aReservedPlaceTakesItsLineExactlyOrPaddedWhenOthersWroteMeanwhile(@TempDir Path tmp) throws Exception {
        AuditLog audit = new AuditLog(new StateDirectory(tmp), MAPPER);
        JsonNode before = MAPPER.readTree("{\"drain\":\"NONE\"}");
        AuditLog.Reservation alone = audit.reserve("alice", "backend.drain", "alpha", before, null);
        assertTrue(Files.size(audit.file()) >= AuditLog.MIN_RESERVED, "the place is on disk before the change");
        audit.complete(alone, null, MAPPER.readTree("{\"drain\":\"DRAINING\"}"), "ok");
        List<String> lines = Files.readAllLines(audit.file());
        assertEquals(1, lines.size());
        assertEquals(lines.get(0).strip(), lines.get(0), "the unused room is given back");
        assertEquals(List.of("time", "caller", "action", "target", "before", "after", "result", "lock"),
                iterable(MAPPER.readTree(lines.get(0))));
        assertEquals("DRAINING", MAPPER.readTree(lines.get(0)).at("/after/drain").asText());

        AuditLog.Reservation first = audit.reserve("bob", "backend.undrain", "alpha", before, 4L);
        audit.record("carol", "lock.acquire", "lock", null, null, "ok", null); // written while bob's change runs
        audit.complete(first, null, null, "not_draining");
        lines = Files.readAllLines(audit.file());
        assertEquals(3, lines.size(), lines.toString());
        JsonNode bob = MAPPER.readTree(lines.get(1));
        assertEquals("not_draining", bob.get("result").asText());
        assertEquals(4, bob.get("lock").asLong());
        assertEquals("lock.acquire", MAPPER.readTree(lines.get(2)).get("action").asText());
        assertEquals(List.of("lock.acquire", "backend.undrain", "backend.drain"),
                audit.recent(10).stream().map(line -> line.get("action").asText()).toList());
    }

    @Test
    void anAfterLargerThanThePlaceIsSummarizedAndAPlaceTakenSurvivesTheFileGoingAway(@TempDir Path tmp)
            throws Exception {
        AuditLog audit = new AuditLog(new StateDirectory(tmp), MAPPER);
        AuditLog.Reservation place = audit.reserve("alice", "compute.launch", null, null, null);
        // The file is replaced by something unwritable after the place was taken: the line still lands in it.
        Path moved = tmp.resolve("audit.moved");
        Files.move(audit.file(), moved);
        Files.createDirectory(audit.file());
        audit.complete(place, "mg-1", MAPPER.createObjectNode().put("blob", "x".repeat(AuditLog.MAX_RESERVED)), "ok");
        JsonNode line = MAPPER.readTree(Files.readAllLines(moved).get(0));
        assertEquals("mg-1", line.get("target").asText());
        assertEquals("ok", line.get("result").asText());
        assertTrue(line.at("/after/bytes").asInt() > AuditLog.MAX_RESERVED, line.toString());
        CoordinationUnavailable refused = assertThrows(CoordinationUnavailable.class,
                () -> audit.reserve("a", "backend.drain", "alpha", null, null));
        assertEquals(CoordinationUnavailable.AUDIT, refused.code());
    }

    private static List<String> iterable(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}

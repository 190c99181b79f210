package org.canonic.gateway.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.HostileProfile;
import org.canonic.gateway.testing.LedgerLines;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A ledger that rotates every 2 KiB under concurrent load: N requests leave exactly N lines across its files. */
@QuarkusTest
@TestProfile(HostileProfile.class)
class LedgerRotationTest extends GatewayTest {

    @Test
    void rotationUnderLoadNeverOverwritesOrDropsALine() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        int n = 120;
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Integer>> statuses = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String id = run + "-" + i;
                statuses.add(pool.submit(() -> gateway.post("/v1/chat/completions", chat("main-model", false),
                        "x-request-id", id).statusCode()));
            }
            for (Future<Integer> status : statuses) {
                assertEquals(200, status.get());
            }
        } finally {
            pool.shutdown();
        }
        Map<String, List<JsonNode>> lines = LedgerLines.await(FakeBackends.hostileLedgerDir(), run + "-", n, 10_000);
        assertEquals(n, lines.size());
        lines.forEach((id, records) -> assertEquals(1, records.size(), "exactly one line for " + id));
        List<Path> files = LedgerLines.files(FakeBackends.hostileLedgerDir());
        assertTrue(files.size() > 10, "a 2 KiB rotation size makes many files: " + files.size());
        for (Path file : files) {
            assertTrue(Files.size(file) <= 2048 + 1024, file + " holds " + Files.size(file) + " bytes");
        }
    }
}

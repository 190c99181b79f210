package org.canonic.gateway.telemetry;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.Metrics;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A ledger sink that never accepts a byte must not slow requests: records are dropped and counted instead. */
@QuarkusTest
@TestProfile(BlockedLedgerProfile.class)
class BlockedLedgerTest extends GatewayTest {

    @Test
    void aBlockedLedgerDropsRecordsAndNeverSlowsRequests() {
        double droppedBefore = Metrics.scrape(management).sum("gateway_ledger_dropped_total");
        int requests = 30;
        long slowestMs = 0;
        for (int i = 0; i < requests; i++) {
            long start = System.nanoTime();
            HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", false));
            slowestMs = Math.max(slowestMs, (System.nanoTime() - start) / 1_000_000);
            assertEquals(200, response.statusCode());
        }
        Metrics after = Metrics.scrape(management);
        // At most one drained batch (a queue's worth, 4) in the stuck writer's hands and 4 in the queue: the rest
        // must have been dropped.
        assertTrue(after.sum("gateway_ledger_dropped_total") - droppedBefore >= requests - 2 * 4,
                "dropped " + (after.sum("gateway_ledger_dropped_total") - droppedBefore));
        assertEquals(4, after.sum("gateway_ledger_queue_depth"), "the queue is full and stays bounded");
        assertTrue(slowestMs < 1000, "the slowest request took " + slowestMs + " ms");
    }
}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tracked-instances file is only appended to, and current state is rebuilt from it. */
class TrackedActionsTest {

    @Test
    void appendedRecordsRebuildTheInstance() throws Exception {
        Path dir = Files.createTempDirectory("tracked");
        TrackedActions tracked = new TrackedActions(dir.resolve(TrackedActions.FILE), new ObjectMapper());
        TrackedInstance i = new TrackedInstance("mg-chat-gw-0badcafe", "vastai", "chat");
        i.offerId = "101";
        i.usdPerHour = 0.4;
        i.estimateCents = 80;
        i.hours = 2;
        tracked.append(tracked.record("ops", i, "provision", 7L), "intent", null, TrackedInstance.State.PROVISIONING);
        i.providerId = "7835601";
        tracked.append(tracked.record("ops", i, "provision", 7L), "ok", null, TrackedInstance.State.WAITING);
        Thread.sleep(20);
        tracked.append(tracked.record("ops", i, "stop", 7L), "ok", null, TrackedInstance.State.STOPPED);
        Files.writeString(tracked.file(), "{\"torn", java.nio.file.StandardOpenOption.APPEND);

        List<JsonNode> records = tracked.readAll();
        assertEquals(3, records.size(), "a torn last line is skipped");
        assertEquals(7, records.get(0).path("lock").asInt());
        assertEquals("intent", records.get(0).path("result").asText());
        TrackedInstance rebuilt = new TrackedInstance("mg-chat-gw-0badcafe", "vastai", "chat");
        records.forEach(rebuilt::replay);
        assertEquals(TrackedInstance.State.STOPPED, rebuilt.state());
        assertEquals("7835601", rebuilt.providerId());
        assertEquals(0.4, rebuilt.usdPerHour());
        assertEquals(80, rebuilt.estimateCents());
        assertTrue(rebuilt.runningHours(System.currentTimeMillis()) > 0, "the running time between the records");
        assertEquals(rebuilt.runningHours(System.currentTimeMillis() + 3_600_000),
                rebuilt.runningHours(System.currentTimeMillis()), "stopped: the clock does not run");
    }

    @Test
    void spendIncludesTheStorageAStoppedInstanceAccrues() {
        TrackedInstance i = new TrackedInstance("mg-chat-gw-0badf00d", "runpod", "chat");
        i.usdPerHour = 0.69;
        i.stoppedUsdPerHour = 0.0175;
        long t0 = 1_790_000_000_000L;
        long hour = 3_600_000;
        i.moveTo(TrackedInstance.State.WAITING, t0);
        i.moveTo(TrackedInstance.State.STOPPED, t0 + hour);
        assertEquals(0.69 + 2 * 0.0175, i.spendUsd(t0 + 3 * hour), 1e-9, "one hour running, two stopped");
        i.moveTo(TrackedInstance.State.DESTROYED, t0 + 4 * hour);
        assertEquals(0.69 + 3 * 0.0175, i.spendUsd(t0 + 9 * hour), 1e-9, "nothing accrues once destroyed");
    }
}

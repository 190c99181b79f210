package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What an instance cost within a period (the usage API shares it among the keys that used it): running hours x $/h
 * plus stopped hours x storage $/h inside the period, adding up over adjacent periods to its whole spend, and the
 * same after the tracked records are replayed at start.
 */
class InstancePeriodSpendTest {

    private static final long HOUR = 3_600_000L;
    private static final long T0 = Instant.parse("2026-12-06T00:00:00Z").toEpochMilli();

    @Test
    void spendWithinAPeriodCountsOnlyTheHoursInsideIt() {
        TrackedInstance i = new TrackedInstance("mg-chat-gw-0badcafe", "vastai", "chat");
        i.usdPerHour = 0.6;
        i.stoppedUsdPerHour = 0.02;
        i.moveTo(TrackedInstance.State.WAITING, T0 + 20 * HOUR);   // running from 20:00
        i.moveTo(TrackedInstance.State.READY, T0 + 21 * HOUR);
        i.moveTo(TrackedInstance.State.STOPPED, T0 + 28 * HOUR);   // stopped at 04:00 the next day
        i.moveTo(TrackedInstance.State.WAITING, T0 + 30 * HOUR);   // running again from 06:00
        long now = T0 + 33 * HOUR;
        assertEquals(4 * 0.6, i.spendUsd(T0, T0 + 24 * HOUR, now), 1e-9, "day one: 20:00-24:00 running");
        assertEquals(7 * 0.6 + 2 * 0.02, i.spendUsd(T0 + 24 * HOUR, T0 + 48 * HOUR, now), 1e-9,
                "day two: 4 h + 3 h so far running, 2 h stopped");
        assertEquals(i.spendUsd(now), i.spendUsd(T0, T0 + 24 * HOUR, now)
                + i.spendUsd(T0 + 24 * HOUR, T0 + 48 * HOUR, now), 1e-9, "the days add up to the whole spend");
        assertEquals(0, i.spendUsd(T0, T0 + 20 * HOUR, now), 1e-12, "nothing before it ran");
    }

    @Test
    void theReplayAtStartGivesTheSamePeriodSpend() {
        ObjectMapper mapper = new ObjectMapper();
        Map<String, TrackedInstance> instances = new HashMap<>();
        String name = "mg-chat-gw-0badcafe";
        String[][] records = {{"provision", "intent", "PROVISIONING", "0"}, {"provision", "ok", "WAITING", "1"},
                {"stop", "ok", "STOPPED", "5"}, {"destroy", "ok", "DESTROYED", "7"}};
        for (String[] r : records) {
            TrackedInstance.replay(instances, mapper.createObjectNode().put("instance", name).put("provider", "vastai")
                    .put("recipe", "chat").put("action", r[0]).put("result", r[1]).put("state", r[2])
                    .put("usd_per_hour", 0.5).put("stopped_usd_per_hour", 0.1)
                    .put("time", Instant.ofEpochMilli(T0 + Long.parseLong(r[3]) * HOUR).toString()));
        }
        TrackedInstance i = instances.get(name);
        long later = T0 + 48 * HOUR;
        assertEquals(4 * 0.5 + 2 * 0.1, i.spendUsd(T0, T0 + 24 * HOUR, later), 1e-9);
        assertEquals(2 * 0.5 + 2 * 0.1, i.spendUsd(T0 + 3 * HOUR, T0 + 24 * HOUR, later), 1e-9);
        assertEquals(i.spendUsd(later), i.spendUsd(0, later, later), 1e-9);
    }
}

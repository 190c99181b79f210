package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A policy's scheduled windows and the schedule's capacity entries over real HTTP: checked, shown, replaced. */
@QuarkusTest
class CapacityWindowsAdminTest extends GatewayTest {

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN,
                "x-gateway-actor", "ops-test");
    }

    @AfterEach
    void removePolicy() {
        admin("DELETE", "/admin/compute/capacity/main", null);
        JsonNode entries = json(admin("GET", "/admin/schedule?kind=capacity", null).body()).path("data");
        entries.forEach(e -> admin("DELETE", "/admin/schedule/" + e.path("id").asText(), null));
    }

    private static void assertError(HttpResponse<String> answer, String param) {
        assertEquals(400, answer.statusCode(), answer.body());
        JsonNode error = json(answer.body()).get("error");
        assertEquals("invalid_capacity_policy", error.get("code").asText(), answer.body());
        assertEquals("invalid_request_error", error.get("type").asText(), answer.body());
        assertEquals(param, error.get("param").asText(), answer.body());
    }

    private static String window(String days, String from, String to, String zone, String min) {
        return "{\"windows\":[{\"days\":\"" + days + "\",\"from\":\"" + from + "\",\"to\":\"" + to + "\",\"zone\":"
                + zone + ",\"min_instances\":" + min + "}]}";
    }

    @Test
    void windowsAreCheckedFieldByField() {
        String put = "/admin/compute/capacity/main";
        assertError(admin("PUT", put, window("mon-fri", "08:00", "18:00", "\"Europe/Atlantis\"", "1")),
                "windows[0].zone");
        assertError(admin("PUT", put, window("mon-fri", "08:00", "18:00", "\"+01:00\"", "1")), "windows[0].zone");
        assertError(admin("PUT", put, window("weekdays", "08:00", "18:00", "\"UTC\"", "1")), "windows[0].days");
        assertError(admin("PUT", put, window("mon-fri", "8am", "18:00", "\"UTC\"", "1")), "windows[0].from");
        assertError(admin("PUT", put, window("mon-fri", "08:00", "08:00", "\"UTC\"", "1")), "windows[0].to");
        assertError(admin("PUT", put, window("mon-fri", "08:00", "18:00", "\"UTC\"", "1.5")),
                "windows[0].min_instances");
        assertError(admin("PUT", put, window("mon-fri", "08:00", "18:00", "7", "1")), "windows[0].zone");
        assertError(admin("PUT", put, window("mon-fri", "08:00", "18:00", "\"UTC\"", "2")),
                "windows[0].min_instances"); // above max_instances (1 by default)
        assertError(admin("PUT", put, "{\"windows\":[{\"days\":\"mon\",\"from\":\"08:00\",\"to\":\"09:00\","
                + "\"zone\":\"UTC\",\"min_instances\":1,\"tz\":\"UTC\"}]}"), "windows[0].tz");
        assertError(admin("PUT", put, "{\"windows\":{}}"), "windows");
        assertError(admin("PUT", put, "{\"scale_out_signal\":\"latency\"}"), "scale_out_signal");
        assertError(admin("PUT", put, "{\"scale_out_signal\":\"ttft_p90_ms\",\"scale_out_ttft_p90_ms\":0}"),
                "scale_out_ttft_p90_ms");
        assertEquals(0, json(admin("GET", "/admin/compute/capacity", null).body()).get("policies").size());
    }

    @Test
    void theViewShowsEachWindowAndScheduleEntryWithItsNextOccurrenceAndWhetherItCounts() {
        // A window that opens in three hours (UTC, maybe across midnight) and a capacity entry in two: neither counts
        // yet (the default time to ready is 10 minutes), so nothing launches in the running gateway.
        Instant now = Instant.now().truncatedTo(ChronoUnit.MINUTES);
        DateTimeFormatter hhmm = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);
        String from = hhmm.format(now.plus(Duration.ofHours(3)));
        String to = hhmm.format(now.plus(Duration.ofHours(4)));
        HttpResponse<String> set = admin("PUT", "/admin/compute/capacity/main", "{\"max_instances\":2,"
                + window("daily", from, to, "\"UTC\"", "2").substring(1));
        assertEquals(200, set.statusCode(), set.body());
        assertEquals("daily", json(set.body()).path("windows").get(0).path("days").asText(), set.body());
        HttpResponse<String> entry = admin("POST", "/admin/schedule", "{\"kind\":\"capacity\",\"target_kind\":"
                + "\"recipe\",\"target\":\"main\",\"starts_at\":\"" + now.plus(Duration.ofHours(2)) + "\",\"ends_at\":\""
                + now.plus(Duration.ofHours(5)) + "\",\"holder\":\"ops\",\"details\":{\"min_instances\":1}}");
        assertEquals(201, entry.statusCode(), entry.body());

        JsonNode row = json(admin("GET", "/admin/compute/capacity", null).body()).path("policies").get(0);
        assertEquals(0, row.path("effective_min_instances").asInt(), row.toString());
        assertTrue(row.path("window_in_force").isNull(), row.toString());
        JsonNode own = row.path("windows").get(0);
        assertEquals(now.plus(Duration.ofHours(3)).toString(), own.path("starts_at").asText(), row.toString());
        assertEquals(2, own.path("min_instances").asInt());
        assertFalse(own.path("in_force").asBoolean() || own.path("launching_ahead").asBoolean(), row.toString());
        JsonNode scheduled = row.path("windows").get(1);
        assertEquals(json(entry.body()).path("id").asText(), scheduled.path("schedule_id").asText(), row.toString());
        assertEquals(now.plus(Duration.ofHours(2)).toString(), scheduled.path("starts_at").asText());

        // Clearing the windows leaves the schedule's entry.
        HttpResponse<String> cleared = admin("PUT", "/admin/compute/capacity/main", "{\"windows\":[]}");
        assertEquals(200, cleared.statusCode(), cleared.body());
        row = json(admin("GET", "/admin/compute/capacity", null).body()).path("policies").get(0);
        assertEquals(1, row.path("windows").size(), row.toString());
    }
}

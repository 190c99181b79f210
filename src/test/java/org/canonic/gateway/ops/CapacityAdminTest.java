package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Capacity policies over real HTTP: validation, the maintenance lock, the audit log and the view. */
@QuarkusTest
class CapacityAdminTest extends GatewayTest {

    private HttpResponse<String> admin(String method, String path, String body, String... more) {
        String[] headers = new String[4 + more.length];
        headers[0] = "authorization";
        headers[1] = "Bearer " + FakeBackends.ADMIN_TOKEN;
        headers[2] = "x-gateway-actor";
        headers[3] = "ops-test";
        System.arraycopy(more, 0, headers, 4, more.length);
        return gateway.call(method, path, body, headers);
    }

    @AfterEach
    void removePolicy() {
        admin("DELETE", "/admin/compute/capacity/main", null);
        admin("DELETE", "/admin/lock?force=true", null);
    }

    private static void assertError(HttpResponse<String> answer, int status, String code, String param) {
        assertEquals(status, answer.statusCode(), answer.body());
        JsonNode error = json(answer.body()).get("error");
        assertTrue(error != null && error.has("message") && error.has("type") && error.has("param")
                && error.has("code"), "OpenAI-shaped: " + answer.body());
        assertEquals(code, error.get("code").asText(), answer.body());
        assertEquals(param, error.get("param").isNull() ? null : error.get("param").asText(), answer.body());
    }

    private JsonNode policies() {
        HttpResponse<String> view = admin("GET", "/admin/compute/capacity", null);
        assertEquals(200, view.statusCode(), view.body());
        return json(view.body()).get("policies");
    }

    @Test
    void badPoliciesAreRefusedFieldByFieldAndNothingIsSet() {
        assertError(admin("PUT", "/admin/compute/capacity/main", "{\"min_instances\":3,\"max_instances\":2}"), 400,
                "invalid_capacity_policy", "min_instances");
        assertError(admin("PUT", "/admin/compute/capacity/main", "{\"providers\":[\"aws\"]}"), 400,
                "invalid_capacity_policy", "providers");
        assertError(admin("PUT", "/admin/compute/capacity/main", "{\"scale_in_action\":\"sleep\"}"), 400,
                "invalid_capacity_policy", "scale_in_action");
        assertError(admin("PUT", "/admin/compute/capacity/main", "{\"max_instance\":2}"), 400,
                "invalid_capacity_policy", "max_instance");
        assertError(admin("PUT", "/admin/compute/capacity/main", "{\"scale_out_window_seconds\":\"2m\"}"), 400,
                "invalid_capacity_policy", "scale_out_window_seconds");
        assertError(admin("PUT", "/admin/compute/capacity/main", "{\"max_scale_out_step\":0}"), 400,
                "invalid_capacity_policy", "max_scale_out_step");
        assertError(admin("PUT", "/admin/compute/capacity/main", "{\"max_scale_out_step\":\"all\"}"), 400,
                "invalid_capacity_policy", "max_scale_out_step");
        assertError(admin("PUT", "/admin/compute/capacity/main", "not json"), 400, "invalid_body", null);
        assertError(admin("PUT", "/admin/compute/capacity/nosuch", "{}"), 404, "recipe_not_found", null);
        assertEquals(0, policies().size(), "off unless configured: nothing was set");
    }

    @Test
    void aPolicyIsSetUnderTheLockAuditedShownAndRemoved() throws Exception {
        HttpResponse<String> acquired = admin("POST", "/admin/lock",
                "{\"holder\":\"ops\",\"reason\":\"capacity\",\"ttl_seconds\":60}");
        assertEquals(201, acquired.statusCode(), acquired.body());
        String token = json(acquired.body()).get("token").asText();
        String body = "{\"min_instances\":0,\"max_instances\":2,\"providers\":[\"runpod\",\"vastai\"],"
                + "\"max_usd_per_hour\":0.5,\"scale_out_window_seconds\":120,\"scale_in_action\":\"destroy\"}";
        assertError(admin("PUT", "/admin/compute/capacity/main", body), 423, "maintenance_locked", null);
        assertEquals(0, policies().size());

        HttpResponse<String> set = admin("PUT", "/admin/compute/capacity/main", body, "X-Gateway-Lock-Token", token);
        assertEquals(200, set.statusCode(), set.body());
        assertEquals(2, json(set.body()).get("max_instances").asInt());
        assertEquals(List.of("runpod", "vastai"), List.of(json(set.body()).get("providers").get(0).asText(),
                json(set.body()).get("providers").get(1).asText()));
        assertEquals("destroy", json(set.body()).get("scale_in_action").asText());

        JsonNode listed = policies();
        assertEquals(1, listed.size(), listed.toString());
        JsonNode main = listed.get(0);
        assertEquals("main", main.path("policy").path("recipe").asText());
        assertEquals(0, main.path("current_instances").asInt());
        assertEquals(0, main.path("desired_instances").asInt());
        assertTrue(main.has("projected_rest_of_day_usd") && main.get("decisions").isArray(), main.toString());
        JsonNode view = json(admin("GET", "/admin/compute/capacity", null).body());
        assertTrue(view.has("daily_cap_usd") && view.has("committed_today_usd"), view.toString());

        // Fields left out keep their value.
        HttpResponse<String> changed = admin("PUT", "/admin/compute/capacity/main", "{\"max_instances\":3}",
                "X-Gateway-Lock-Token", token);
        assertEquals(200, changed.statusCode(), changed.body());
        assertEquals(0.5, json(changed.body()).get("max_usd_per_hour").asDouble());

        HttpResponse<String> removed = admin("DELETE", "/admin/compute/capacity/main", null,
                "X-Gateway-Lock-Token", token);
        assertEquals(200, removed.statusCode(), removed.body());
        assertEquals(0, policies().size());

        Path audit = FakeBackends.ledger().getParent().resolve("state").resolve("audit.jsonl");
        List<JsonNode> lines = Files.readAllLines(audit).stream().map(GatewayTest::json)
                .filter(l -> "main".equals(l.path("target").asText())
                        && l.path("action").asText().startsWith("compute.capacity")).toList();
        // The audit log is the running gateway's: this test's four lines are its last.
        lines = lines.subList(lines.size() - 4, lines.size());
        assertEquals(List.of("compute.capacity:maintenance_locked", "compute.capacity:ok", "compute.capacity:ok",
                "compute.capacity.delete:ok"), lines.stream().map(l -> l.path("action").asText() + ":"
                + l.path("result").asText()).toList(), lines.toString());
        assertEquals(2, lines.get(2).path("before").path("max_instances").asInt(), lines.get(2).toString());
        assertEquals(3, lines.get(2).path("after").path("max_instances").asInt(), lines.get(2).toString());
    }
}

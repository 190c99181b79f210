package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.regex.Pattern;

import static org.canonic.gateway.testing.FakeBackends.vastai;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the console is served with and the admin reads it adds, over HTTP (the browser tests drive the page). */
@QuarkusTest
class ConsoleApiTest extends GatewayTest {

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
    }

    @Test
    void thePageIsStrictAndHasNoInlineScriptOrStyle() {
        HttpResponse<String> bare = gateway.get("/console");
        assertEquals(302, bare.statusCode());
        assertEquals("/console/", bare.headers().firstValue("location").orElse(""));

        HttpResponse<String> page = gateway.get("/console/");
        assertEquals(200, page.statusCode());
        String csp = page.headers().firstValue("content-security-policy").orElse("");
        assertTrue(csp.contains("default-src 'none'") && csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe"), csp);
        assertEquals("DENY", page.headers().firstValue("x-frame-options").orElse(""));
        assertEquals("no-store", page.headers().firstValue("cache-control").orElse(""));
        String html = page.body();
        // Every script has a src; no style attribute, no event handler attribute, no <style> block.
        assertFalse(Pattern.compile("<script(?![^>]*\\ssrc=)[^>]*>").matcher(html).find(), "inline script");
        assertFalse(Pattern.compile("\\son[a-z]+\\s*=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "handler");
        assertFalse(html.contains("style=") || html.contains("<style"), "inline style");
        // The entry module and every module it imports: none may parse markup from values.
        java.util.Set<String> modules = new java.util.TreeSet<>(java.util.List.of("console.js"));
        java.util.Deque<String> unread = new java.util.ArrayDeque<>(modules);
        while (!unread.isEmpty()) {
            HttpResponse<String> module = gateway.get("/console/" + unread.pop());
            assertEquals(200, module.statusCode(), module.uri().toString());
            assertTrue(module.headers().firstValue("content-type").orElse("").contains("javascript"),
                    "a module needs a JavaScript type: " + module.headers().firstValue("content-type"));
            String script = module.body();
            assertFalse(Pattern.compile("\\.innerHTML\\s*=|outerHTML\\s*=|insertAdjacentHTML|document\\.write|eval\\(")
                    .matcher(script).find(), module.uri() + " must never parse markup from values");
            java.util.regex.Matcher imports = Pattern.compile("from '\\./([a-z]+\\.js)'").matcher(script);
            while (imports.find()) {
                if (modules.add(imports.group(1))) {
                    unread.add(imports.group(1));
                }
            }
        }
        assertTrue(modules.size() >= 7, "one module per panel: " + modules);
        assertEquals(csp, gateway.get("/console/console.js").headers().firstValue("content-security-policy")
                .orElse(""));
    }

    @Test
    void recentAuditLinesNewestFirstWithBoundedLimits() {
        assertEquals(401, gateway.get("/admin/audit").statusCode());
        admin("POST", "/admin/lock", "{\"holder\":\"audit-test\",\"reason\":\"r\",\"ttl_seconds\":60}");
        admin("DELETE", "/admin/lock?force=true", null);
        HttpResponse<String> recent = admin("GET", "/admin/audit?limit=2", null);
        assertEquals(200, recent.statusCode(), recent.body());
        JsonNode data = json(recent.body()).path("data");
        assertEquals(2, data.size(), data.toString());
        assertEquals("lock.force_release", data.get(0).path("action").asText());
        assertEquals("lock.acquire", data.get(1).path("action").asText());
        for (String bad : new String[] {"0", "201", "x", "-1"}) {
            HttpResponse<String> refused = admin("GET", "/admin/audit?limit=" + bad, null);
            assertEquals(400, refused.statusCode(), bad);
            assertEquals("limit", json(refused.body()).path("error").path("param").asText());
        }
        JsonNode hooks = json(admin("GET", "/admin/audit/webhooks", null).body());
        assertEquals(1, hooks.path("receivers").asInt(), hooks.toString());
        assertTrue(hooks.path("signed").asBoolean());
        assertFalse(hooks.toString().contains("http"), "never a receiver's URL: " + hooks);
    }

    @Test
    void anEstimateSaysTheTierAndReservesAndLaunchesNothing() {
        vastai().reset();
        vastai().offers.add(FakeVastAi.offer(201, "RTX 4090", 24564, 0.40, 0.99));
        vastai().offers.add(FakeVastAi.offer(202, "A100", 81920, 3.00, 0.99));
        vastai().offers.add(FakeVastAi.offer(203, "H100", 81920, 15.00, 0.99));
        double committed = json(admin("GET", "/admin/compute/spend", null).body()).path("committed_today_usd")
                .asDouble();
        String[][] cases = {{"201", "auto", "0.8", "false"}, {"202", "warn", "6.0", "false"},
                {"203", "needs_confirmation", "30.0", "true"}};
        for (String[] c : cases) {
            HttpResponse<String> answer = admin("POST", "/admin/compute/estimate",
                    "{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":2,\"offer_id\":\"" + c[0] + "\"}");
            assertEquals(200, answer.statusCode(), answer.body());
            JsonNode estimate = json(answer.body());
            assertEquals(c[1], estimate.path("tier").asText(), estimate.toString());
            assertEquals(Double.parseDouble(c[2]), estimate.path("estimate_usd").asDouble());
            assertEquals(Boolean.parseBoolean(c[3]), estimate.path("confirmation_needed").asBoolean());
            assertEquals(20.0, estimate.path("daily_cap_usd").asDouble());
        }
        assertTrue(vastai().instances.isEmpty(), "nothing launched");
        assertTrue(vastai().received("PUT", "/api/v0/asks/201/").isEmpty(), "no create call");
        assertEquals(committed, json(admin("GET", "/admin/compute/spend", null).body()).path("committed_today_usd")
                .asDouble(), "nothing reserved");

        HttpResponse<String> bad = admin("POST", "/admin/compute/estimate", "{\"provider\":\"vastai\",\"hours\":-1}");
        assertEquals(400, bad.statusCode(), bad.body());
        assertEquals("invalid_request_error", json(bad.body()).path("error").path("type").asText());
        assertEquals(401, gateway.post("/admin/compute/estimate", "{}").statusCode());
    }
}

package org.canonic.gateway.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayClient;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LedgerLines;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The usage API against the ledger it is built from: a mixed load from three keys over real HTTP through the fake
 * vLLM (streams, non-streams, a retry that moves to another backend, a request the backend rejects, one the gateway
 * refuses), then {@code /admin/usage} must say exactly what the ledger's lines say, and so must a rebuild from the
 * ledger files (a restart).
 */
@QuarkusTest
@TestProfile(UsageProfile.class)
class UsageApiTest extends GatewayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ADMIN = "Bearer " + FakeBackends.ADMIN_TOKEN;

    private HttpResponse<String> chat(String key, String id, boolean stream) {
        return gateway.post("/v1/chat/completions", GatewayClient.chat("main-model", stream),
                "authorization", "Bearer " + key, "x-request-id", id);
    }

    /** Every line of the profile's ledger, once {@code expected} lines with the prefix are there. */
    private List<JsonNode> ledgerAfter(String prefix, int expected) throws Exception {
        Path dir = FakeBackends.usageLedger().getParent();
        LedgerLines.await(dir, prefix, expected, 10_000);
        List<JsonNode> all = new ArrayList<>();
        LedgerLines.read(dir, "").values().forEach(all::addAll);
        return all;
    }

    @Test
    void usageSumsEqualTheLedgersLinesForAMixedLoadFromThreeKeys() throws Exception {
        FakeBackends.alpha().then(Behavior.stream(5), Behavior.stream(2), Behavior.completion("hi"),
                Behavior.status(503), Behavior.status(503), Behavior.json(400,
                        "{\"object\":\"error\",\"message\":\"bad\",\"type\":\"BadRequestError\",\"code\":400}"));
        assertEquals(200, chat(UsageProfile.K1, "mix-1", true).statusCode());
        assertEquals(200, chat(UsageProfile.K1, "mix-2", true).statusCode());
        assertEquals(200, chat(UsageProfile.K2, "mix-3", false).statusCode());
        // alpha fails twice (its two tries): beta answers
        assertEquals(200, chat(UsageProfile.K3, "mix-4", false).statusCode());
        assertEquals(400, chat(UsageProfile.K3, "mix-5", false).statusCode());
        // refused by the gateway itself: not JSON
        assertEquals(400, gateway.post("/v1/chat/completions", "{not json", "authorization",
                "Bearer " + UsageProfile.K2, "x-request-id", "mix-6").statusCode());
        assertEquals(200, chat(UsageProfile.K2, "mix-7", true).statusCode());
        List<JsonNode> lines = ledgerAfter("mix-", 7);

        JsonNode report = json(gateway.get("/admin/usage?group_by=key", "authorization", ADMIN).body());
        Map<String, long[]> expected = sums(lines, "key_id");
        Map<String, JsonNode> rows = rows(report, "key");
        for (String key : List.of("k1", "k2", "k3")) {
            long[] want = expected.get(key);
            JsonNode row = rows.get(key);
            assertEquals(want[0], row.path("requests").asLong(), key + " requests: " + row);
            assertEquals(want[1], row.path("errors").asLong(), key + " errors: " + row);
            assertEquals(want[2], row.path("input_tokens").asLong(), key + " input: " + row);
            assertEquals(want[3], row.path("output_tokens").asLong(), key + " output: " + row);
            assertEquals(want[4], row.path("ttft_ms").path("count").asLong(), key + " ttft count: " + row);
        }
        assertEquals(1, rows.get("k2").path("errors_by_class").path("refused").asLong(), rows.get("k2").toString());
        assertEquals(1, rows.get("k3").path("errors_by_class").path("rejected").asLong(), rows.get("k3").toString());
        // the whole ledger, every grouping
        for (String by : List.of("key", "route", "backend", "model", "day")) {
            JsonNode total = json(gateway.get("/admin/usage?group_by=" + by, "authorization", ADMIN).body())
                    .path("total");
            long[] all = sums(lines, "request_id").values().stream().reduce(new long[5], UsageApiTest::add);
            assertEquals(all[0], total.path("requests").asLong(), by + ": " + total);
            assertEquals(all[2], total.path("input_tokens").asLong(), by + ": " + total);
            assertEquals(all[3], total.path("output_tokens").asLong(), by + ": " + total);
        }
        // beta served k3's retried request; alpha is priced at $1000 per million weighted tokens, beta has no price
        JsonNode byBackend = json(gateway.get("/admin/usage?group_by=backend", "authorization", ADMIN).body());
        JsonNode alpha = rows(byBackend, "backend").get("alpha");
        double weighted = alpha.path("input_tokens").asLong() + 4.0 * alpha.path("output_tokens").asLong();
        assertEquals(weighted / 1e6 * 1000, alpha.path("cost_usd").asDouble(), 1e-6, alpha.toString());
        assertEquals(0, rows(byBackend, "backend").get("beta").path("cost_usd").asDouble(), byBackend.toString());

        // A restart rebuilds the aggregate from the ledger files: the same numbers.
        UsageBook rebuilt = new UsageBook(7 * 86_400_000L);
        LedgerReplay.replay(FakeBackends.usageLedger(), rebuilt, JSON, 1L << 30, System.currentTimeMillis());
        long now = System.currentTimeMillis();
        long from = now - now % 86_400_000L;
        long to = from + 86_400_000L;
        UsagePricing pricing = new UsagePricing(4, Map.of("alpha", 1000.0));
        UsageBook live = io.quarkus.arc.Arc.container().instance(UsageBook.class).get();
        for (GroupBy by : GroupBy.values()) {
            assertEquals(UsageRendering.json(UsageReport.build(live, from, to, by, pricing,
                            UsagePricing.InstanceSpend.NONE, null), JSON, true),
                    UsageRendering.json(UsageReport.build(rebuilt, from, to, by, pricing,
                            UsagePricing.InstanceSpend.NONE, null), JSON, true), by.label());
        }
    }

    @Test
    void csvFormForSpreadsheets() throws Exception {
        assertEquals(200, chat(UsageProfile.K1, "csv-1", true).statusCode());
        ledgerAfter("csv-", 1);
        HttpResponse<String> csv = gateway.get("/admin/usage?group_by=key", "authorization", ADMIN,
                "accept", "text/csv");
        assertEquals(200, csv.statusCode());
        assertTrue(csv.headers().firstValue("content-type").orElse("").startsWith("text/csv"), csv.headers().toString());
        String[] lines = csv.body().split("\n");
        assertTrue(lines[0].startsWith("key,requests,errors"), lines[0]);
        assertTrue(lines[0].endsWith(",input_tokens,output_tokens,ttft_p50_ms,ttft_p90_ms,cost_usd"), lines[0]);
        assertTrue(csv.body().contains("\nk1,"), csv.body());
    }

    @Test
    void badQueriesAndNoTokenAreRefusedInOpenAisShape() {
        assertEquals(401, gateway.get("/admin/usage").statusCode());
        assertEquals(401, gateway.get("/admin/usage", "authorization", "Bearer " + UsageProfile.K1).statusCode());
        for (String query : List.of("group_by=team", "from=yesterday", "from=2026-12-07T10:00:00Z&to=2026-12-07T09:00:00Z",
                "from=2000-01-01")) {
            HttpResponse<String> bad = gateway.get("/admin/usage?" + query, "authorization", ADMIN);
            assertEquals(400, bad.statusCode(), query + ": " + bad.body());
            JsonNode error = json(bad.body()).path("error");
            assertEquals("invalid_request_error", error.path("type").asText(), bad.body());
            assertFalse(error.path("param").asText().isEmpty(), bad.body());
        }
    }

    @Test
    void aKeyReadsItsOwnUsageAndNeverAnothers() throws Exception {
        assertEquals(200, chat(UsageProfile.K2, "own-1", true).statusCode());
        assertEquals(200, chat(UsageProfile.K3, "own-2", true).statusCode());
        List<JsonNode> lines = ledgerAfter("own-", 2);
        HttpResponse<String> mine = gateway.get("/v1/usage", "authorization", "Bearer " + UsageProfile.K3);
        assertEquals(200, mine.statusCode(), mine.body());
        JsonNode body = json(mine.body());
        assertEquals("k3", body.path("key_id").asText());
        assertEquals("day", body.path("group_by").asText());
        long[] k3 = sums(lines, "key_id").get("k3");
        assertEquals(k3[0], body.path("total").path("requests").asLong(), mine.body());
        assertEquals(k3[2], body.path("total").path("input_tokens").asLong(), mine.body());
        // nothing of another key, no backend and no instance
        for (String other : List.of("k1", "k2", "capped", "spender", "alpha", "beta", "instances")) {
            assertFalse(mine.body().contains("\"" + other + "\""), other + " in " + mine.body());
        }
        HttpResponse<String> byModel = gateway.get("/v1/usage?group_by=model", "authorization",
                "Bearer " + UsageProfile.K3);
        assertEquals("main-model", byModel.body().contains("main-model") ? "main-model" : byModel.body());
        assertEquals(400, gateway.get("/v1/usage?group_by=key", "authorization", "Bearer " + UsageProfile.K3)
                .statusCode());
        assertEquals(400, gateway.get("/v1/usage?group_by=backend", "authorization", "Bearer " + UsageProfile.K3)
                .statusCode());
        assertEquals(401, gateway.get("/v1/usage").statusCode());
        assertEquals(401, gateway.get("/v1/usage", "authorization", ADMIN).statusCode());
    }

    @Test
    void aKeyOverItsDailyTokenBudgetGets429UntilMidnightAndOthersDoNot() throws Exception {
        // 11 prompt + 3 completion tokens a request: the third passes the budget of 30
        for (int i = 1; i <= 3; i++) {
            assertEquals(200, chat(UsageProfile.CAPPED, "capped-" + i, true).statusCode());
        }
        ledgerAfter("capped-", 3);
        int before = FakeBackends.alpha().completionRequests().size();
        HttpResponse<String> over = chat(UsageProfile.CAPPED, "capped-4", true);
        assertEquals(429, over.statusCode(), over.body());
        JsonNode error = json(over.body()).path("error");
        assertEquals("budget_exceeded", error.path("code").asText(), over.body());
        assertTrue(error.path("message").asText().contains("30 tokens per day"), over.body());
        Instant midnight = Instant.now().plusSeconds(86_400).truncatedTo(java.time.temporal.ChronoUnit.DAYS);
        assertTrue(error.path("message").asText().contains(midnight.toString()), over.body());
        long retryAfter = Long.parseLong(over.headers().firstValue("retry-after").orElseThrow());
        assertEquals(midnight.getEpochSecond() - Instant.now().getEpochSecond(), retryAfter, 2);
        assertEquals(before, FakeBackends.alpha().completionRequests().size(), "nothing forwarded");
        assertEquals(200, chat(UsageProfile.K1, "capped-other", true).statusCode());
    }

    @Test
    void aKeyOverItsDailyDollarBudgetGets429AndOthersDoNot() throws Exception {
        // $0.023 a request on alpha; the keys' cost today is recomputed every 5 s
        assertEquals(200, chat(UsageProfile.SPENDER, "spender-1", true).statusCode());
        ledgerAfter("spender-", 1);
        long deadline = System.nanoTime() + 8_000_000_000L;
        HttpResponse<String> answer;
        do {
            Thread.sleep(250);
            answer = chat(UsageProfile.SPENDER, "spender-x", true);
        } while (answer.statusCode() == 200 && System.nanoTime() < deadline);
        assertEquals(429, answer.statusCode(), answer.body());
        assertEquals("budget_exceeded", json(answer.body()).path("error").path("code").asText());
        assertTrue(json(answer.body()).path("error").path("message").asText().contains("$0.01 per day"));
        assertEquals(200, chat(UsageProfile.K2, "spender-other", true).statusCode());
    }

    @Test
    void aRentedInstancesSpendIsSharedAmongItsKeysToTheCent() throws Exception {
        // $900/h: a few seconds of it are dollars, so the split is tested on real cents
        FakeBackends.vastai().reset();
        FakeBackends.vastai().offers.add(org.canonic.gateway.compute.FakeVastAi.offer(901, "H100", 81920, 900, 0.99));
        try (org.canonic.gateway.testing.FakeVllm machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL)) {
            FakeBackends.vastai().instancePort = machine.port();
            HttpResponse<String> created = gateway.call("POST", "/admin/compute/instances",
                    "{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":0.01,\"offer_id\":\"901\"}",
                    "authorization", ADMIN, "x-gateway-actor", "usage-test");
            assertEquals(201, created.statusCode(), created.body());
            String id = json(created.body()).path("instance").path("id").asText();
            try {
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (!json(gateway.get("/admin/compute/instances/" + id, "authorization", ADMIN).body())
                        .path("state").asText().equals("ready")) {
                    assertTrue(System.nanoTime() < deadline, "the instance never became ready");
                    Thread.sleep(100);
                }
                // i1 one request, i2 two, i3 four: weighted 23, 46 and 92 tokens (11 in + 4 x 3 out each)
                int n = 0;
                for (int k = 0; k < 3; k++) {
                    for (int r = 0; r < (1 << k); r++) {
                        HttpResponse<String> answer = chat(UsageProfile.ON_INSTANCE[k], "inst-" + (++n), true);
                        assertEquals(200, answer.statusCode(), answer.body());
                        assertEquals(id, answer.headers().firstValue("x-gateway-provider").orElse(""));
                    }
                }
                ledgerAfter("inst-", 7);
            } finally {
                HttpResponse<String> destroyed = gateway.call("DELETE", "/admin/compute/instances/" + id
                        + "?force=true&deadline_seconds=10", null, "authorization", ADMIN, "x-gateway-actor",
                        "usage-test");
                assertEquals(200, destroyed.statusCode(), destroyed.body());
            }
            // destroyed: its spend no longer grows
            double spend = 0;
            for (JsonNode i : json(gateway.get("/admin/compute/spend", "authorization", ADMIN).body())
                    .path("instances")) {
                if (i.path("id").asText().equals(id)) {
                    spend = i.path("spend_usd").asDouble();
                }
            }
            long spendCents = Math.round(spend * 100);
            // from launch to destroy takes 0.7 s on an idle machine, longer under load: at $900/h at least 0.2 s of it
            assertTrue(spendCents > 5, "at least 0.2 s at $900/h: " + spend);
            JsonNode report = json(gateway.get("/admin/usage?group_by=key", "authorization", ADMIN).body());
            JsonNode instance = null;
            for (JsonNode i : report.path("instances")) {
                if (i.path("backend").asText().equals(id)) {
                    instance = i;
                }
            }
            assertNotNull(instance, report.toString());
            assertEquals(spendCents, Math.round(instance.path("spend_usd").asDouble() * 100), instance.toString());
            assertEquals(0, instance.path("unattributed_usd").asDouble(), instance.toString());
            Map<String, JsonNode> rows = rows(report, "key");
            long[] cents = new long[3];
            for (int k = 0; k < 3; k++) {
                cents[k] = Math.round(rows.get("i" + (k + 1)).path("cost_usd").asDouble() * 100);
            }
            assertEquals(spendCents, cents[0] + cents[1] + cents[2], "the shares add up to the spend, to the cent");
            double[] weights = {23, 46, 92};
            for (int k = 0; k < 3; k++) {
                assertEquals(spendCents * weights[k] / 161, cents[k], 1.0, "key i" + (k + 1) + "'s share");
            }
        }
    }

    private static Map<String, JsonNode> rows(JsonNode report, String field) {
        Map<String, JsonNode> rows = new TreeMap<>();
        report.path("data").forEach(row -> rows.put(row.path(field).asText(), row));
        return rows;
    }

    /** Per value of {@code field}: requests, errors, input, output, lines with a TTFT. */
    private static Map<String, long[]> sums(List<JsonNode> lines, String field) {
        Map<String, long[]> sums = new TreeMap<>();
        for (JsonNode line : lines) {
            long[] s = sums.computeIfAbsent(line.path(field).asText(), k -> new long[5]);
            s[0]++;
            s[1] += "completed".equals(line.path("outcome").asText()) ? 0 : 1;
            s[2] += line.path("usage").path("prompt_tokens").asLong(0);
            s[3] += line.path("usage").path("completion_tokens").asLong(0);
            s[4] += line.path("ttft_ms").isNumber() ? 1 : 0;
        }
        return sums;
    }

    private static long[] add(long[] a, long[] b) {
        long[] sum = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            sum[i] = a[i] + b[i];
        }
        return sum;
    }
}

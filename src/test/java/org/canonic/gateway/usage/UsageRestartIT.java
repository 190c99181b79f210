package org.canonic.gateway.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.LedgerLines;
import org.canonic.gateway.testing.PackagedGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar, restarted: the day's usage answered before the restart is answered the same after it (rebuilt
 * from the ledger files), and new requests add to it.
 */
class UsageRestartIT {

    private static final String ADMIN = "usage-restart-it-admin-token-0123456789";
    private static final String MODEL = "fake/usage-restart-model";
    private static final String KEY_A = "gw-usage-restart-a-0123456789";
    private static final String KEY_B = "gw-usage-restart-b-0123456789";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static Vertx vertx;
    private static FakeVllm fake;

    @BeforeAll
    static void fake() {
        vertx = Vertx.vertx();
        fake = FakeVllm.start(vertx, MODEL);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    private static JsonNode usage(PackagedGateway gateway) throws Exception {
        HttpResponse<String> answer = gateway.client().get("/admin/usage?group_by=key", "authorization",
                "Bearer " + ADMIN);
        assertEquals(200, answer.statusCode(), answer.body());
        return MAPPER.readTree(answer.body());
    }

    @Test
    void theDaysUsageSurvivesARestart() throws Exception {
        assertTrue(Files.exists(PackagedGateway.JAR), "package the gateway first");
        Path dir = Files.createTempDirectory("usage-restart-it");
        Map<String, String> env = new HashMap<>(Map.of("GATEWAY_STATE_DIR", dir.resolve("state").toString(),
                "GATEWAY_LEDGER_PATH", dir.resolve("ledger").resolve("ledger.jsonl").toString(),
                "GATEWAY_API_KEYS", "a:" + KEY_A + ",b:" + KEY_B, "GATEWAY_ADMIN_TOKEN", ADMIN,
                "VASTAI_BASE_URL", fake.baseUrl(), "VASTAI_MODEL", MODEL));

        JsonNode before;
        PackagedGateway first = PackagedGateway.start(env);
        try {
            first.awaitRoute("chat");
            for (int i = 0; i < 5; i++) {
                String key = i < 2 ? KEY_A : KEY_B;
                assertEquals(200, first.client().post("/v1/chat/completions", chat("qwen", i % 2 == 0),
                        "authorization", "Bearer " + key, "x-request-id", "restart-" + i).statusCode());
            }
            LedgerLines.await(dir.resolve("ledger"), "restart-", 5, 10_000);
            before = usage(first);
            assertEquals(5, before.path("total").path("requests").asLong(), before.toString());
        } finally {
            first.terminate(40);
        }

        PackagedGateway second = PackagedGateway.start(env);
        try {
            JsonNode after = usage(second);
            assertEquals(before.path("data"), after.path("data"), "the same rows after the restart");
            assertEquals(before.path("total"), after.path("total"));
            second.awaitRoute("chat");
            assertEquals(200, second.client().post("/v1/chat/completions", chat("qwen", false), "authorization",
                    "Bearer " + KEY_A, "x-request-id", "restart-5").statusCode());
            LedgerLines.await(dir.resolve("ledger"), "restart-", 6, 10_000);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (usage(second).path("total").path("requests").asLong() < 6 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(6, usage(second).path("total").path("requests").asLong(), "counted once, and added to");
        } finally {
            second.terminate(40);
        }
    }
}

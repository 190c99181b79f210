package org.canonic.gateway.telemetry;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.policy.AuthProfile;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LogCapture;
import org.canonic.gateway.testing.Metrics;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The configured client key and the upstream key never appear in logs, the ledger or the metrics. */
@QuarkusTest
@TestProfile(AuthProfile.class)
class TelemetrySecretsTest extends GatewayTest {

    private static final List<String> SECRETS = List.of(FakeBackends.CI_KEY, FakeBackends.SOLO_KEY,
            FakeBackends.ALPHA_KEY, FakeBackends.ADMIN_TOKEN);

    @Test
    void keysNeverReachLogsLedgerOrMetrics() throws Exception {
        String ledger;
        String logs;
        try (LogCapture capture = LogCapture.start()) {
            gateway.post("/v1/chat/completions", chat("main-model", true), "authorization", "Bearer " + FakeBackends.CI_KEY);
            gateway.post("/v1/chat/completions", chat("main-model", false), "authorization", "Bearer " + FakeBackends.CI_KEY);
            gateway.post("/v1/chat/completions", chat("main-model", false), "authorization", "Bearer " + FakeBackends.SOLO_KEY);
            alpha().always(Behavior.status(401));
            gateway.post("/v1/chat/completions", chat("main-model", false), "authorization", "Bearer " + FakeBackends.CI_KEY);
            gateway.get("/admin/backends", "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
            Thread.sleep(500);
            logs = capture.text();
            ledger = Files.readString(FakeBackends.ledger());
        }
        String metrics = Metrics.scrape(management).text();
        assertTrue(ledger.contains("\"key_id\":\"ci\""), "the ledger names the key by its id");
        for (String secret : SECRETS) {
            assertFalse(logs.contains(secret), "a secret leaked into the logs");
            assertFalse(ledger.contains(secret), "a secret leaked into the ledger");
            assertFalse(metrics.contains(secret), "a secret leaked into the metrics");
        }
    }
}

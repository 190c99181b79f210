package org.canonic.gateway.config;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BootChecksTest {

    @Test
    void tokenBoundsMustBeConsistent() {
        List<String> problems = new ArrayList<>();
        BootChecks.checkTokens(ConfigFixture.with("gateway.tokens.min", "5000", "gateway.tokens.max", "4000",
                "gateway.tokens.default", "9000").build().tokens(), problems);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("TOKENS_MIN (5000) is larger than TOKENS_MAX (4000)"));
    }

    @Test
    void usageSettingsAndDailyBudgetsMustBeInRange() {
        List<String> problems = new ArrayList<>();
        BootChecks.checkUsage(ConfigFixture.with().build(), problems);
        assertEquals(List.of(), problems, "the defaults are in range");
        BootChecks.checkUsage(ConfigFixture.with("gateway.usage.retention", "10m",
                "gateway.usage.output-token-weight", "0", "gateway.usage.usd-per-million-tokens.beta", "-1",
                "gateway.key-limits.keys.a.usd-per-day", "-5", "gateway.key-limits.tokens-per-day", "-1").build(),
                problems);
        assertEquals(5, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("gateway.usage.retention"), problems.toString());
        assertTrue(problems.get(1).contains("output-token-weight"), problems.toString());
        assertTrue(problems.get(2).contains("usd-per-million-tokens.beta"), problems.toString());
        assertTrue(problems.get(4).contains("gateway.key-limits.keys.a"), problems.toString());
    }

    @Test
    void breakerSettingsMustDescribeABreakerThatCanOpenAndClose() {
        List<String> problems = new ArrayList<>();
        BootChecks.checkBreaker(ConfigFixture.with().build().breaker(), problems);
        assertEquals(List.of(), problems, "the defaults are in range");
        BootChecks.checkBreaker(ConfigFixture.with("gateway.breaker.failure-ratio", "1.5").build().breaker(), problems);
        BootChecks.checkBreaker(ConfigFixture.with("gateway.breaker.request-volume-threshold", "0").build().breaker(),
                problems);
        BootChecks.checkBreaker(ConfigFixture.with("gateway.breaker.success-threshold", "0").build().breaker(),
                problems);
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("0 < failure-ratio <= 1") && problems.get(0).contains("failure-ratio 1.5"),
                problems.get(0));
        // Start-up runs this check with the others.
        List<String> atStartUp = BootChecks.check(ConfigFixture.with("gateway.breaker.failure-ratio", "0").build(),
                new SmallRyeConfigBuilder().build());
        assertTrue(atStartUp.stream().anyMatch(p -> p.startsWith("gateway.breaker settings")), atStartUp.toString());
    }

    @Test
    void adaptiveConcurrencyBoundsMustBeConsistentAndTheWaitNotNegative() {
        List<String> problems = new ArrayList<>();
        BootChecks.checkConcurrency(ConfigFixture.with().build().defaults(), problems);
        assertEquals(List.of(), problems, "the defaults are consistent");
        BootChecks.checkConcurrency(ConfigFixture.with("gateway.defaults.adaptive-concurrency.min-limit", "64",
                "gateway.defaults.adaptive-concurrency.initial-limit", "32",
                "gateway.defaults.concurrency-wait", "-1s").build().defaults(), problems);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("1 <= min <= initial <= max, got 64, 32 and 1024"), problems.get(0));
        assertTrue(problems.get(1).contains("concurrency-wait must not be negative"), problems.get(1));
    }

    @Test
    void aCredentialWrittenAsALiteralInApplicationPropertiesIsRefused() {
        SmallRyeConfig raw = new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(Map.of(
                "gateway.backends.runpod.api-key", "rpa_literal_key_in_a_file",
                "gateway.backends.vastai.api-key", "${VASTAI_API_KEY:}",
                "%dev.gateway.admin-token", "hunter2",
                "gateway.tokens.max", "4096"), "PropertiesConfigSource[source=file:/app/application.properties]", 250))
                .build();
        List<String> problems = new ArrayList<>();
        BootChecks.checkNoLiteralSecrets(raw, problems);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("gateway.backends.runpod.api-key")));
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("%dev.gateway.admin-token")));
        assertTrue(problems.stream().noneMatch(p -> p.contains("rpa_literal") || p.contains("hunter2")),
                "the literal itself is never echoed");
    }

    @Test
    void thePackagedConfigurationHasNoLiteralCredentials() {
        SmallRyeConfig raw = new SmallRyeConfigBuilder().addDefaultSources().build();
        List<String> problems = new ArrayList<>();
        BootChecks.checkNoLiteralSecrets(raw, problems);
        assertEquals(List.of(), problems);
    }

    @Test
    void aLedgerPathThatCannotBeWrittenStopsTheBoot() throws Exception {
        java.nio.file.Path notADirectory = java.nio.file.Files.createTempFile("ledger-parent", ".txt");
        GatewayConfig config = ConfigFixture.with("gateway.telemetry.ledger.path",
                notADirectory.resolve("ledger.jsonl").toString()).build();
        List<String> problems = BootChecks.check(config, new SmallRyeConfigBuilder().build());
        assertTrue(problems.stream().anyMatch(p -> p.contains("GATEWAY_LEDGER_PATH") && p.contains("not writable")),
                problems.toString());
    }

    @Test
    void theGatewayIdAndRecipeNamesMustMakeValidInstanceLabels() {
        List<String> problems = BootChecks.check(ConfigFixture.with("gateway.compute.gateway-id", "GW-Prod",
                "gateway.compute.recipes.Chat2.model", "some/model").build(), new SmallRyeConfigBuilder().build());
        assertTrue(problems.stream().anyMatch(p -> p.contains("GATEWAY_ID") && p.contains("GW-Prod")),
                problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.contains("Chat2")), problems.toString());
        assertEquals(List.of(), BootChecks.check(ConfigFixture.with("gateway.compute.gateway-id", "prod-eu1").build(),
                new SmallRyeConfigBuilder().build()).stream().filter(p -> p.contains("compute")).toList());
    }
}

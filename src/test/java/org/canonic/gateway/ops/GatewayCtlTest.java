package org.canonic.gateway.ops;

import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.FakeBackends.vastai;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/gatewayctl against the running gateway: a script that automation runs must fail when the gateway refuses,
 * with the gateway's reason on stderr, and succeed only on a 2xx.
 */
@QuarkusTest
class GatewayCtlTest extends GatewayTest {

    record Run(int exit, String out, String err) {
    }

    private Run ctl(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("sh", "deploy/gatewayctl"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("GATEWAY_ADMIN_TOKEN");
        builder.environment().remove("GATEWAY_LOCK_TOKEN");
        builder.environment().put("GATEWAY_URL", "http://127.0.0.1:" + gatewayPort());
        builder.environment().putAll(env);
        Process process = builder.start();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "gatewayctl hung");
        return new Run(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private Run ctl(String... args) throws IOException, InterruptedException {
        return ctl(Map.of("GATEWAY_ADMIN_TOKEN", FakeBackends.ADMIN_TOKEN), args);
    }

    @AfterEach
    void unlock() {
        gateway.call("DELETE", "/admin/lock?force=true", null, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
    }

    @Test
    void helpNeedsNoTokenAndBadUsageIsTwo() throws Exception {
        Run help = ctl(Map.of(), "help");
        assertEquals(0, help.exit(), help.err());
        assertTrue(help.out().contains("usage: gatewayctl"), help.out());
        assertEquals(2, ctl(Map.of(), "spend").exit(), "no token");
        assertEquals(2, ctl("provision").exit(), "no provider, recipe, hours");
        assertEquals(2, ctl("no-such-verb").exit());
    }

    @Test
    void everyRefusalExitsOneWithTheGatewaysReason() throws Exception {
        Run ok = ctl("instance-list");
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("\"instances\""), ok.out());

        Run unauthorized = ctl(Map.of("GATEWAY_ADMIN_TOKEN", "wrong-token-wrong-token-wrong-token-0"), "spend");
        assertEquals(1, unauthorized.exit());
        assertTrue(unauthorized.err().contains("HTTP 401"), unauthorized.err());

        Run missing = ctl("destroy-instance", "mg-main-gw-00000000");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("HTTP 404"), missing.err());

        vastai().reset();
        vastai().offers.add(FakeVastAi.offer(701, "H100", 81920, 15.0, 0.99));
        Run overTier = ctl("provision", "--provider", "vastai", "--recipe", "main", "--hours", "2", "--offer-id", "701");
        assertEquals(1, overTier.exit());
        assertTrue(overTier.err().contains("HTTP 402 estimate_needs_confirmation"), overTier.err());
        assertTrue(overTier.out().contains("\"estimate_usd\":30.0"), "the answer stays on stdout: " + overTier.out());
        assertTrue(vastai().instances.isEmpty());

        gateway.call("POST", "/admin/lock", "{\"holder\":\"someone\",\"reason\":\"r\",\"ttl_seconds\":60}",
                "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
        Run locked = ctl("provision", "--provider", "vastai", "--recipe", "main", "--hours", "1", "--offer-id", "701");
        assertEquals(1, locked.exit());
        assertTrue(locked.err().contains("HTTP 423 maintenance_locked"), locked.err());
    }

    @Test
    void leaksFailsWhenAProvidersListFails() throws Exception {
        vastai().reset();
        Run clean = ctl("leaks");
        // Other tests may leave instances tracked that the reset fake no longer lists: then it is a leak report.
        boolean nothing = clean.out().contains("\"leaks\":[]") && clean.out().contains("\"errors\":[]");
        assertEquals(nothing ? 0 : 1, clean.exit(), clean.out() + clean.err());
        vastai().listOverride = "<html>bad gateway</html>";
        try {
            Run broken = ctl("leaks");
            assertEquals(1, broken.exit(), broken.out());
            assertTrue(broken.err().contains("leaks found or a provider's list failed"), broken.err());
        } finally {
            vastai().listOverride = null;
        }
    }

    @Test
    void noAnswerIsAFailure() throws Exception {
        Run down = ctl(Map.of("GATEWAY_ADMIN_TOKEN", FakeBackends.ADMIN_TOKEN, "GATEWAY_URL", "http://127.0.0.1:1"),
                "spend");
        assertEquals(1, down.exit());
        assertTrue(down.err().contains("no answer"), down.err());
    }
}

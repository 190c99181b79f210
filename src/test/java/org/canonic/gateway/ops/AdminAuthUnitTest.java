package org.canonic.gateway.ops;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin token's boot checks and the bearer check itself, without HTTP. */
class AdminAuthUnitTest {

    private static final String GOOD = "0123456789abcdef0123456789abcdef";

    @Test
    void aShortTokenRefusesTheStartWithAClearMessageThatDoesNotRepeatIt() {
        GatewayConfig config = ConfigFixture.with("gateway.admin-token", "short-admin-token").build();
        List<String> problems = AdminAuth.problems(config);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("at least 32"), problems.get(0));
        assertFalse(problems.get(0).contains("short-admin-token"));
        InvalidConfigurationException refused = assertThrows(InvalidConfigurationException.class,
                () -> new AdminAuth(config, new SimpleMeterRegistry()));
        assertTrue(refused.getMessage().contains("refuses to start"));
    }

    @Test
    void aLongEnoughTokenOrNoneAtAllIsFine() {
        assertEquals(List.of(), AdminAuth.problems(ConfigFixture.with("gateway.admin-token", GOOD).build()));
        assertEquals(List.of(), AdminAuth.problems(ConfigFixture.with().build()));
    }

    @Test
    void theTokenMayComeFromAFileButNotFromBothSources(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("admin-token"), "  " + GOOD + "\n");
        GatewayConfig fromFile = ConfigFixture.with("gateway.admin-token-file", file.toString()).build();
        assertEquals(List.of(), AdminAuth.problems(fromFile));
        AdminAuth auth = new AdminAuth(fromFile, new SimpleMeterRegistry());
        auth.require("Bearer " + GOOD, "10.0.0.1"); // trimmed content is the token

        List<String> both = AdminAuth.problems(ConfigFixture.with("gateway.admin-token", GOOD,
                "gateway.admin-token-file", file.toString()).build());
        assertTrue(both.get(0).contains("both set"), both.toString());
        List<String> unreadable = AdminAuth.problems(ConfigFixture.with("gateway.admin-token-file",
                dir.resolve("missing").toString()).build());
        assertTrue(unreadable.get(0).contains("cannot be read"), unreadable.toString());
    }

    @Test
    void theCheckAnswers404WithoutAToken401ForAWrongOneAnd429PastTheLimit() {
        AdminAuth none = new AdminAuth(Optional.empty(), 10, new SimpleMeterRegistry());
        assertEquals(404, assertThrows(AdminAuth.Refused.class, () -> none.require("Bearer " + GOOD, "a"))
                .getResponse().getStatus());

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AdminAuth auth = new AdminAuth(Optional.of(GOOD), 3, registry);
        auth.require("bearer " + GOOD, "a");
        auth.require("  BEARER   " + GOOD + "  ", "a");
        String[] wrongs = {null, "", "Bearer", "Bearer ", GOOD, "Token " + GOOD, "Bearer " + GOOD + "x"};
        for (int i = 0; i < wrongs.length; i++) {
            String wrong = wrongs[i];
            String address = "b" + i; // each from its own address, so none reaches the limit
            AdminAuth.Refused refused = assertThrows(AdminAuth.Refused.class, () -> auth.require(wrong, address));
            assertEquals(401, refused.getResponse().getStatus(), "" + wrong);
            assertEquals("Bearer", refused.getResponse().getHeaderString("WWW-Authenticate"));
        }
        for (int i = 0; i < 3; i++) {
            assertThrows(AdminAuth.Refused.class, () -> auth.require("Bearer x", "c"));
        }
        AdminAuth.Refused limited = assertThrows(AdminAuth.Refused.class, () -> auth.require("Bearer x", "c"));
        assertEquals(429, limited.getResponse().getStatus());
        assertTrue(Long.parseLong(limited.getResponse().getHeaderString("Retry-After")) > 0);
        auth.require("Bearer " + GOOD, "c"); // success from a limited address is unaffected
        assertEquals(7 + 4, registry.get("gateway.admin.auth.failures").counter().count());
    }

    @Test
    void theLimiterForgetsAfterAMinuteAndBoundsItsMemory() {
        long[] now = {0};
        FailureLimiter limiter = new FailureLimiter(2, () -> now[0]);
        assertEquals(0, limiter.fail("x"));
        assertEquals(0, limiter.fail("x"));
        assertEquals(60, limiter.fail("x"));
        now[0] = 30_000;
        assertEquals(30, limiter.fail("x"));
        now[0] = 60_000;
        assertEquals(0, limiter.fail("x"), "a new window");
        for (int i = 0; i < FailureLimiter.MAX_ADDRESSES + 50; i++) {
            limiter.fail("addr-" + i);
        }
        assertTrue(limiter.fail("one-more") > 0, "past the bound, new addresses share one window");
    }
}

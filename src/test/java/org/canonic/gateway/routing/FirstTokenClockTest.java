package org.canonic.gateway.routing;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.backend.UpstreamEndpoint;
import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.fleet.LiveBackends;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The first-token clock grows with the prompt a backend must prefill, within the backend's configured clock. */
class FirstTokenClockTest {

    private static final RoutingConfig.FirstTokenDeadline DEFAULTS = ConfigFixture.with().build().routing()
            .firstTokenDeadline();

    private static LiveBackend backend(String url, long firstTokenMs) {
        return LiveBackends.of(new Backend("b", UpstreamEndpoint.parse(url), "m", 1, 0,
                new Clocks(5000, firstTokenMs, 60_000, 900_000), 0, Backend.ProbeKind.NONE, 0, 0, null, false));
    }

    private static LiveBackend backend(long firstTokenMs) {
        return backend("http://127.0.0.1:9/v1", firstTokenMs);
    }

    @Test
    void aLongColdPromptGetsTimeForItsPrefillAShortOneLittleMoreThanTheBase() {
        FirstTokenClock clock = new FirstTokenClock(DEFAULTS);
        LiveBackend backend = backend(120_000);
        // Before its own samples the backend is assumed to prefill 4000 tokens/s: 100 tokens = 25 ms.
        assertEquals(15_000 + 4 * 25, clock.clocks(backend, 100, true).firstTokenMs());
        // 30k tokens = 7.5 s of prefill: 15 s + 4 x 7.5 s.
        assertEquals(45_000, clock.clocks(backend, 30_000, true).firstTokenMs());
        // Never beyond the backend's own clock.
        assertEquals(120_000, clock.clocks(backend, 200_000, true).firstTokenMs());
    }

    @Test
    void aBackendThatLearnedItIsFastGetsAShorterClock() {
        FirstTokenClock clock = new FirstTokenClock(DEFAULTS);
        LiveBackend backend = backend(120_000);
        for (int i = 0; i < 40; i++) {
            long tokens = 1000 + 1000L * (i % 10);
            backend.firstToken(System.nanoTime() - (20_000_000L + tokens * 80_000L), tokens, true);
        }
        long clockMs = clock.clocks(backend, 30_000, true).firstTokenMs();
        // 80 us a token: 30k tokens = 2.4 s of prefill, 15 s + 4 x 2.4 s, give or take the timing of this test.
        assertEquals(24_600, clockMs, 1_500);
    }

    @Test
    void nonStreamRequestsAndRunPodServerlessKeepTheConfiguredClock() {
        FirstTokenClock clock = new FirstTokenClock(DEFAULTS);
        assertEquals(120_000, clock.clocks(backend(120_000), 100, false).firstTokenMs());
        assertEquals(120_000, clock.clocks(backend("https://api.runpod.ai/v2/endpoint-id/openai/v1", 120_000), 100, true)
                .firstTokenMs());
        assertEquals(1_500, clock.clocks(backend(1_500), 100, true).firstTokenMs(),
                "a configured clock shorter than the base stays");
        FirstTokenClock off = new FirstTokenClock(ConfigFixture.with("gateway.routing.first-token-deadline.enabled",
                "false").build().routing().firstTokenDeadline());
        assertEquals(120_000, off.clocks(backend(120_000), 100, true).firstTokenMs());
    }
}

package org.canonic.gateway.health;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.backend.UpstreamEndpoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe state machine, table-driven: a sequence of probe results and the states it must pass through. */
class BackendHealthTest {

    private static final ProbeResult OK = ProbeResult.healthy("m", 16384);
    private static final ProbeResult FAIL = ProbeResult.failed("health answered 502");
    private static final ProbeResult COLD = ProbeResult.cold("1 worker initializing");
    private static final ProbeResult MISMATCH = ProbeResult.mismatch("other", "m");

    static Backend backend(Backend.ProbeKind probe) {
        return new Backend("b", UpstreamEndpoint.parse("http://127.0.0.1:9/v1"), "m", 1, 0,
                new Clocks(1, 1, 1, 1), 1, probe, 0, 0, null, false);
    }

    private static void assertStates(List<ProbeResult> probes, List<BackendState> expected) {
        BackendHealth health = new BackendHealth(backend(Backend.ProbeKind.VLLM), 3, 2, 1000);
        assertEquals(BackendState.PENDING, health.snapshot().state());
        for (int i = 0; i < probes.size(); i++) {
            health.onProbe(probes.get(i));
            assertEquals(expected.get(i), health.snapshot().state(), "after probe " + (i + 1) + " of " + probes);
        }
    }

    @Test
    void aFreshBackendIsProvenByItsFirstGoodProbe() {
        assertStates(List.of(OK), List.of(BackendState.UP));
        assertStates(List.of(FAIL, FAIL, FAIL), List.of(BackendState.PENDING, BackendState.PENDING, BackendState.DOWN));
    }

    @Test
    void failuresDegradeThenTakeDownAfterN() {
        assertStates(List.of(OK, FAIL, FAIL, FAIL), List.of(BackendState.UP, BackendState.DEGRADED,
                BackendState.DEGRADED, BackendState.DOWN));
        assertStates(List.of(OK, FAIL, OK), List.of(BackendState.UP, BackendState.DEGRADED, BackendState.UP));
    }

    @Test
    void aDownBackendNeedsMConsecutiveGoodProbes() {
        assertStates(List.of(OK, FAIL, FAIL, FAIL, OK, FAIL, OK, OK), List.of(BackendState.UP, BackendState.DEGRADED,
                BackendState.DEGRADED, BackendState.DOWN, BackendState.DOWN, BackendState.DOWN, BackendState.DOWN,
                BackendState.UP));
    }

    @Test
    void aModelMismatchIsDownAtOnce() {
        assertStates(List.of(OK, MISMATCH, OK, OK), List.of(BackendState.UP, BackendState.DOWN, BackendState.DOWN,
                BackendState.UP));
    }

    @Test
    void coldIsRoutableButAfterWarmerBackends() {
        assertStates(List.of(COLD, OK), List.of(BackendState.COLD, BackendState.UP));
        assertTrue(BackendState.COLD.routable());
        assertTrue(BackendState.COLD.preference() > BackendState.DEGRADED.preference());
        assertTrue(BackendState.DEGRADED.preference() > BackendState.UP.preference());
    }

    @Test
    void theLearnedWindowSurvivesFailedProbes() {
        BackendHealth health = new BackendHealth(backend(Backend.ProbeKind.VLLM), 3, 2, 1000);
        health.onProbe(OK);
        health.onProbe(FAIL);
        assertEquals(16384, health.snapshot().maxModelLen());
    }

    @Test
    void anUnprobedBackendIsRoutableOnPassiveSignalsAlone() {
        BackendHealth health = new BackendHealth(backend(Backend.ProbeKind.NONE), 3, 2, 1000);
        assertTrue(health.routable());
        health.attachBreaker(() -> BreakerState.OPEN);
        health.onBreakerState(BreakerState.OPEN);
        assertFalse(health.routable(), "an open breaker keeps it out until the delay passed");
    }

    @Test
    void aTimedOutProbeDoesNotCountWhileTheBackendAnswersRealTraffic() {
        BackendHealth health = new BackendHealth(backend(Backend.ProbeKind.VLLM), 3, 2, 1000, 60_000);
        health.onProbe(OK);
        health.onTrafficSuccess();
        for (int i = 0; i < 5; i++) {
            health.onProbe(ProbeResult.timedOut());
        }
        assertEquals(BackendState.UP, health.snapshot().state(), "the gateway was busy, the backend was not");
        health.onProbe(FAIL);
        assertEquals(BackendState.DEGRADED, health.snapshot().state(), "an explicit bad answer still counts");
    }

    @Test
    void withoutRecentTrafficATimedOutProbeCounts() {
        BackendHealth health = new BackendHealth(backend(Backend.ProbeKind.VLLM), 3, 2, 1000, 60_000);
        health.onProbe(OK);
        for (int i = 0; i < 3; i++) {
            health.onProbe(ProbeResult.timedOut());
        }
        assertEquals(BackendState.DOWN, health.snapshot().state());
    }
}

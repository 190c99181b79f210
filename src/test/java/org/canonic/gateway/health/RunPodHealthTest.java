package org.canonic.gateway.health;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** RunPod serverless {@code /v2/<endpoint>/health} worker counts mapped to probe verdicts. */
class RunPodHealthTest {

    private static ProbeResult.Verdict verdict(String workers) throws Exception {
        return BackendProbe.workers(new ObjectMapper().readTree("{\"jobs\":{\"inQueue\":7,\"inProgress\":0},"
                + "\"workers\":" + workers + "}")).verdict();
    }

    @Test
    void readyIdleOrRunningWorkersMeanUp() throws Exception {
        assertEquals(ProbeResult.Verdict.HEALTHY, verdict("{\"idle\":0,\"initializing\":1,\"ready\":1,\"running\":0,"
                + "\"throttled\":0,\"unhealthy\":0}"));
        assertEquals(ProbeResult.Verdict.HEALTHY, verdict("{\"idle\":1,\"ready\":0,\"running\":0}"));
        assertEquals(ProbeResult.Verdict.HEALTHY, verdict("{\"running\":2,\"unhealthy\":1}"));
    }

    @Test
    void onlyInitializingWorkersMeanCold() throws Exception {
        assertEquals(ProbeResult.Verdict.COLD, verdict("{\"idle\":0,\"initializing\":1,\"ready\":0,\"running\":0,"
                + "\"throttled\":0,\"unhealthy\":1}"));
    }

    @Test
    void onlyUnhealthyOrThrottledWorkersMeanDown() throws Exception {
        // The lab's incident: 7 jobs queued, 0 running, 1 unhealthy worker.
        assertEquals(ProbeResult.Verdict.DOWN, verdict("{\"idle\":0,\"initializing\":0,\"ready\":0,\"running\":0,"
                + "\"throttled\":0,\"unhealthy\":1}"));
        assertEquals(ProbeResult.Verdict.DOWN, verdict("{\"idle\":0,\"initializing\":0,\"ready\":0,\"running\":0,"
                + "\"throttled\":1,\"unhealthy\":0}"));
    }

    @Test
    void noWorkersAtAllIsAScaledToZeroColdStart() throws Exception {
        assertEquals(ProbeResult.Verdict.COLD, verdict("{\"idle\":0,\"initializing\":0,\"ready\":0,\"running\":0,"
                + "\"throttled\":0,\"unhealthy\":0}"));
    }

    @Test
    void anAnswerWithoutWorkerCountsIsAFailedProbe() throws Exception {
        assertEquals(ProbeResult.Verdict.FAILED, BackendProbe.workers(new ObjectMapper().readTree("{}")).verdict());
    }
}

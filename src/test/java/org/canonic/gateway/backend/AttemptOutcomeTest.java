package org.canonic.gateway.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class AttemptOutcomeTest {

    @Test
    void statusesTheRequestProvokedAreItsOwnFault() {
        for (int status : new int[] {400, 413, 414, 422, 431}) {
            assertEquals(AttemptOutcome.REJECTED_BY_BACKEND, AttemptOutcome.ofStatus(status), "HTTP " + status);
        }
        for (int status : new int[] {401, 403, 404, 408, 500, 502, 503}) {
            assertEquals(AttemptOutcome.Fault.BACKEND, AttemptOutcome.ofStatus(status).fault(), "HTTP " + status);
        }
        assertEquals(AttemptOutcome.Fault.GATEWAY, AttemptOutcome.OVER_BUDGET.fault());
        assertFalse(AttemptOutcome.OVER_BUDGET.isBackendFault(), "the breaker never counts the gateway's own limit");
        assertEquals(AttemptOutcome.Fault.REQUEST, AttemptOutcome.REQUEST_TIME_LIMIT.fault(),
                "a clock run because of what the client asked for is the request's, not the backend's");
    }
}

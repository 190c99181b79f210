package org.canonic.gateway.telemetry;

import org.canonic.gateway.backend.AttemptOutcome;

/**
 * One attempt of an exchange, as reported to the client (failure messages) and to telemetry.
 *
 * @param backend   backend name
 * @param tryNumber 1-based try on that backend
 * @param outcome   how it ended
 * @param status    upstream HTTP status, 0 when none arrived
 * @param elapsedMs from the attempt's start to its end
 * @param detail    secret-free explanation
 * @param hedge     whether it raced another attempt of the same request, started because that one's first token
 *                  was late
 */
public record AttemptRecord(String backend, int tryNumber, AttemptOutcome outcome, int status, long elapsedMs,
                            String detail, boolean hedge) {

    public AttemptRecord(String backend, int tryNumber, AttemptOutcome outcome, int status, long elapsedMs,
                         String detail) {
        this(backend, tryNumber, outcome, status, elapsedMs, detail, false);
    }

    /** "vastai try 2: first-token timeout (no first token within 30000 ms)". */
    public String describe() {
        return backend + " try " + tryNumber + ": " + outcome.description() + " (" + detail + ")";
    }
}

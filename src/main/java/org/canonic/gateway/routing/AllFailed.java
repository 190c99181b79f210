package org.canonic.gateway.routing;

import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.telemetry.AttemptRecord;
import org.canonic.gateway.telemetry.Outcome;

import java.util.List;

/**
 * The answer when no candidate answered: the status fits the last failure (504 for a clock, 503 for a busy or
 * unavailable backend, 429 when every candidate was full, 502 otherwise), and the message lists every attempt and
 * every candidate passed over, so an operator can tell a dead host from a cold start from a full fleet.
 */
final class AllFailed {

    private AllFailed() {
    }

    /** How a failed request is classed: after the commit point it was truncated; before, it depends on why. */
    static Outcome outcome(boolean committed, List<AttemptRecord> attempts) {
        if (committed) {
            return Outcome.TRUNCATED;
        }
        if (!attempts.isEmpty() && attempts.get(attempts.size() - 1).outcome() == AttemptOutcome.REJECTED_BY_BACKEND) {
            return Outcome.REJECTED;
        }
        return attempts.isEmpty() ? Outcome.UNAVAILABLE : Outcome.FAILED;
    }

    static OpenAiError answer(ProxyRequest request, List<AttemptRecord> attempts, List<String> skipped,
                              boolean skippedForCapacity) {
        StringBuilder message = new StringBuilder("No backend could answer for model '")
                .append(request.requestedModel()).append("' (route ").append(request.route().name()).append("). ");
        if (!attempts.isEmpty()) {
            message.append(attempts.size() == 1 ? "The only attempt failed: " : "All " + attempts.size()
                    + " attempts failed: ");
            for (int i = 0; i < attempts.size(); i++) {
                message.append(i == 0 ? "" : "; ").append(attempts.get(i).describe());
            }
            message.append(". ");
        }
        if (!skipped.isEmpty()) {
            message.append("Not tried: ").append(String.join("; ", skipped)).append(". ");
        }
        message.append("Retry later.");
        if (attempts.isEmpty()) {
            return skippedForCapacity
                    ? new OpenAiError(429, message.toString(), "rate_limit_error", null, "backends_at_capacity")
                    : OpenAiError.server(503, message.toString(), "no_backend_available");
        }
        AttemptRecord last = attempts.get(attempts.size() - 1);
        if (last.outcome().isTimeout()) {
            return OpenAiError.server(504, message.toString(), "upstream_timeout");
        }
        if (last.outcome() == AttemptOutcome.BACKEND_BUSY || last.outcome() == AttemptOutcome.OVER_BUDGET
                || last.status() == 503) {
            return OpenAiError.server(503, message.toString(), "upstream_unavailable");
        }
        return OpenAiError.server(502, message.toString(), "upstream_failed");
    }
}

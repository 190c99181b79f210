package org.canonic.gateway.routing;

import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.backend.SseEvents;
import org.canonic.gateway.backend.UpstreamAttempt;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.health.BackendBreaker;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.ProxyRequest;
import io.vertx.core.MultiMap;
import org.canonic.gateway.telemetry.AttemptRecord;
import org.canonic.gateway.telemetry.RequestTrace;
import org.jboss.logging.Logger;

/**
 * One attempt of an exchange: which candidate, which try on it, whether it is a hedge, the upstream exchange and what
 * it holds of its backend. An exchange runs one attempt at a time, or two while a hedge races the first; each tells
 * the exchange what happens to it with itself as the sender, so the exchange knows which one spoke.
 */
final class Attempt implements UpstreamAttempt.Listener {

    private static final Logger LOG = Logger.getLogger(Attempt.class);

    /** What an attempt reports to its exchange; all calls on the exchange's event loop. */
    interface Owner {
        void onEvent(Attempt attempt, Buffer buffer, int start, int end, SseEvents.Kind kind);

        void onChunkEnd(Attempt attempt);

        void onEnd(Attempt attempt, UpstreamAttempt.Result result);
    }

    private final Owner owner;
    /** The candidate's position in the request's placement. */
    final int index;
    final Candidate candidate;
    final int tryNumber;
    final boolean hedge;
    /** What is sent: the request's body for this candidate (kept for a retry on it). */
    final Buffer body;
    /** Prompt tokens the backend is expected to prefill (what its prefix cache is not believed to hold). */
    final long uncachedTokens;
    /** Those, plus the prefill this gateway had queued on the backend before: what stands before its first token. */
    final long prefillTokens;
    /** Set by {@link #start}. */
    UpstreamAttempt upstream;
    /** The attempt's span when the request is traced, else null. */
    private RequestTrace.AttemptTrace trace;
    HeldAttempt held;

    Attempt(Owner owner, int index, Candidate candidate, int tryNumber, boolean hedge, Buffer body,
            long uncachedTokens, long prefillTokens) {
        this.owner = owner;
        this.index = index;
        this.candidate = candidate;
        this.tryNumber = tryNumber;
        this.hedge = hedge;
        this.body = body;
        this.uncachedTokens = uncachedTokens;
        this.prefillTokens = prefillTokens;
    }

    /**
     * Sends the attempt, its backend slot already taken, under the backend's circuit breaker; false when the breaker
     * refused it (the slot is then given back and nothing was sent).
     */
    boolean start(ExchangeServices services, ProxyRequest request, Clocks clocks, Runnable withdraw,
                  RequestTrace requestTrace) {
        LiveBackend backend = candidate.backend();
        Backend spec = backend.spec();
        BackendBreaker.Handle handle = backend.startAttempt();
        if (handle.rejected()) {
            backend.slots().release(request.keyId());
            return false;
        }
        held = new HeldAttempt(backend, request.keyId(), handle, withdraw, uncachedTokens, prefillTokens,
                request.stream());
        MultiMap headers = UpstreamBody.headers(request, spec);
        if (requestTrace != null) {
            trace = requestTrace.attempt(request.endpoint().operation(), spec.name(), spec.model(),
                    spec.endpoint().host(), spec.endpoint().port(), tryNumber, hedge, headers);
        }
        upstream = new UpstreamAttempt(services.vertx(), backend.client(), spec, clocks,
                spec.endpoint().apiPath(request.endpoint().path()), headers, body,
                request.stream(), services.maxUpstreamBody(), services.bodyBudget(), this);
        upstream.start();
        return true;
    }

    LiveBackend backend() {
        return candidate.backend();
    }

    String name() {
        return candidate.backend().name();
    }

    /**
     * Closes the upstream request at once and gives back what the attempt held; the record of it says why. Nothing
     * more is heard from it.
     */
    AttemptRecord cancel(AttemptOutcome why, String detail) {
        long elapsed = held.elapsedMs();
        upstream.cancel();
        held.release(why, 0);
        return traced(new AttemptRecord(name(), tryNumber, why, 0, elapsed, detail, hedge));
    }

    /** Ends the attempt's span (when traced) with how it ended; returns the record. */
    AttemptRecord traced(AttemptRecord record) {
        return trace == null ? record : trace.end(record);
    }

    /**
     * One WARN line when the backend or the gateway failed this attempt (a request's own fault is the client's
     * business): request id, backend name and outcome only. The detail is left out because it may quote the backend's
     * URL.
     */
    void warnIfFailed(String requestId, AttemptOutcome outcome, int status) {
        if (outcome.fault() == AttemptOutcome.Fault.BACKEND || outcome.fault() == AttemptOutcome.Fault.GATEWAY) {
            LOG.warnf("Request %s: attempt %d on backend %s failed: %s%s", requestId, tryNumber, name(),
                    outcome.label(), status > 0 ? " (HTTP " + status + ")" : "");
        }
    }

    @Override
    public void onEvent(Buffer buffer, int start, int end, SseEvents.Kind kind) {
        owner.onEvent(this, buffer, start, end, kind);
    }

    @Override
    public void onChunkEnd() {
        owner.onChunkEnd(this);
    }

    @Override
    public void onEnd(UpstreamAttempt.Result result) {
        owner.onEnd(this, result);
    }
}

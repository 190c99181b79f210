package org.canonic.gateway.routing;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.NonStreamAnswer;
import org.canonic.gateway.backend.SseEvents;
import org.canonic.gateway.backend.UpstreamAttempt;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.health.BackendBreaker;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.relay.ClientChannel;
import org.canonic.gateway.relay.EventBatch;
import org.canonic.gateway.relay.KeepAlive;
import org.canonic.gateway.relay.GatewayHeaders;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.telemetry.AttemptRecord;
import org.canonic.gateway.telemetry.Outcome;
import org.canonic.gateway.telemetry.RequestRecord;

import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/**
 * One client request on its way through its candidates: the attempt loop and the commit point.
 *
 * <p>Until the commit point (the first upstream {@code data:} event relayed, or a whole non-stream body received)
 * any backend fault moves on: another try on the same backend after its retry delay, then the next candidate. The
 * status line waits for that moment, unless the keep-alive interval passes first; then the 200 head and
 * {@code : keep-alive} comments go out ({@link KeepAlive}: comments carry no data, so moving on is still safe) and a
 * final failure becomes an error event. After the commit point a failure can only end the stream with an error event and
 * {@code [DONE]}.
 *
 * <p>Each attempt holds a slot of its backend's concurrency limit, runs under the backend's circuit breaker from
 * start to end, and is registered with the backend so that a drain deadline can end it. Everything runs on the client request's event loop: the upstream
 * attempt, its timers and the client's callbacks all land there, so the state below needs no locks.
 */
final class ProxyExchange implements UpstreamAttempt.Listener {

    private static final Logger LOG = Logger.getLogger(ProxyExchange.class);

    private final ProxyRequest request;
    private final List<Candidate> candidates;
    private final ExchangeServices services;
    private final ClientChannel client;
    private final RequestRecord record;
    private final List<AttemptRecord> attempts;
    /** Candidates passed over without an attempt (full, breaker open, gone out of rotation), for messages. */
    private final List<String> skipped = new ArrayList<>();
    private boolean skippedForCapacity;

    private int candidateIndex;
    private int tryOnBackend;
    private UpstreamAttempt current;
    /** What the current attempt holds of its backend (slot, breaker handle, drain registration). */
    private HeldAttempt held;
    private Context context;
    private Buffer currentBody;
    private boolean committed;
    private boolean finished;
    private final KeepAlive keepAlive;
    private final EventBatch batch;
    private long retryTimer = -1;
    private long nonStreamTimer = -1;
    private final SlotWaits slotWaits;

    /** What the ledger record learns from the answer on its way. */
    private final AnswerNotes notes;

    ProxyExchange(ProxyRequest request, List<Candidate> candidates, ExchangeServices services, ClientChannel client,
                  RequestRecord record) {
        this.request = request;
        this.candidates = candidates;
        this.services = services;
        this.client = client;
        this.record = record;
        this.attempts = record.attempts();
        this.notes = new AnswerNotes(record, request, services.telemetry(), services.json().mapper());
        this.batch = new EventBatch(client, services.vertx(), this::afterWrite);
        this.slotWaits = new SlotWaits(services.vertx(), services.concurrencyWaitMs(), request.keyId());
        this.keepAlive = new KeepAlive(services.vertx(), client, services.keepAliveMs(), this::elapsedMs,
                () -> client.startStream(GatewayHeaders.PROVIDER_PENDING, totalAttempts(), elapsedMs()));
    }

    void start() {
        context = services.vertx().getOrCreateContext();
        client.onClientGone(this::onClientGone);
        if (request.stream()) {
            keepAlive.start();
        } else if (services.nonStreamTotalMs() > 0) {
            nonStreamTimer = services.vertx().setTimer(services.nonStreamTotalMs(), id -> nonStreamExpired());
        }
        nextTry();
    }

    // ---- the attempt loop -------------------------------------------------------------------------------------

    /** Tries the current candidate once more, taking a slot of its concurrency limit first. */
    private void nextTry() {
        retryTimer = -1;
        if (finished) {
            return;
        }
        if (candidateIndex >= candidates.size()) {
            finish(AllFailed.answer(request, attempts, skipped, skippedForCapacity), GatewayHeaders.PROVIDER_NONE);
            return;
        }
        Candidate candidate = candidates.get(candidateIndex);
        LiveBackend backend = candidate.backend();
        if (tryOnBackend == 0 && candidateIndex > 0 && !backend.routable()) {
            // Health may have changed since the candidates were ordered.
            skip(backend.describe());
            return;
        }
        slotWaits.acquire(backend, granted -> {
            if (finished) {
                if (granted) {
                    backend.slots().release(request.keyId());
                }
                return;
            }
            if (!granted) {
                skippedForCapacity = true;
                skip(backend.name() + " at its concurrency limit");
            } else if (!backend.accepting()) {
                // Drained while this request waited for (or retried on) it: a drain lets nothing new in.
                backend.slots().release(request.keyId());
                skip(backend.describe());
            } else {
                launch(candidate);
            }
        });
    }

    private void launch(Candidate candidate) {
        LiveBackend backend = candidate.backend();
        Backend spec = backend.spec();
        BackendBreaker.Handle handle = backend.startAttempt();
        if (handle.rejected()) {
            backend.slots().release(request.keyId());
            skip(backend.name() + " circuit breaker open");
            return;
        }
        if (tryOnBackend == 0) {
            currentBody = UpstreamBody.forCandidate(request, candidate, services.json());
        }
        tryOnBackend++;
        held = new HeldAttempt(backend, request.keyId(), handle, this::withdraw);
        client.maxTokens(candidate.maxTokens());
        record.backend(backend.name(), candidate.maxTokens());
        current = new UpstreamAttempt(services.vertx(), backend.client(), spec,
                spec.endpoint().apiPath(request.endpoint().path()), UpstreamBody.headers(request, spec), currentBody,
                request.stream(), services.maxUpstreamBody(), services.bodyBudget(), this);
        current.start();
    }

    private void skip(String why) {
        skipped.add(why);
        nextCandidate();
    }

    private void nextCandidate() {
        candidateIndex++;
        tryOnBackend = 0;
        nextTry();
    }

    @Override
    public void onEnd(UpstreamAttempt.Result result) {
        Backend backend = current.backend();
        releaseAttempt(result.outcome(), result.status());
        attempts.add(new AttemptRecord(backend.name(), tryOnBackend, result.outcome(), result.status(),
                result.elapsedMs(), result.detail()));
        warnIfFailed(backend.name(), result.outcome(), result.status());
        if (finished) {
            return;
        }
        switch (result.outcome()) {
            case COMPLETED -> complete(backend, result);
            case REJECTED_BY_BACKEND -> finish(UpstreamErrors.rejected(result.status(), result.body(),
                    services.json().mapper()), backend.name());
            default -> onBackendFault(backend, result);
        }
    }

    private void onBackendFault(Backend backend, UpstreamAttempt.Result result) {
        if (result.outcome() == AttemptOutcome.WITHDRAWN) {
            if (committed) {
                finish(OpenAiError.server(502, "The answer was ended before it was complete: " + result.detail()
                        + ". The answer above is incomplete.", "backend_withdrawn"), backend.name());
            } else {
                nextCandidate();
            }
            return;
        }
        if (committed) {
            String message = result.outcome() == AttemptOutcome.STREAM_ERROR_EVENT
                    ? UpstreamErrors.streamErrorMessage(result.body(), services.json().mapper())
                    : "The backend failed mid-stream: " + result.outcome().description() + " (" + result.detail()
                    + "). The answer above is incomplete.";
            finish(OpenAiError.server(502, message, "upstream_stream_interrupted"), backend.name());
            return;
        }
        if (tryOnBackend < backend.tries()) {
            retryTimer = services.vertx().setTimer(Math.max(1, backend.retryDelayMs()), id -> nextTry());
            return;
        }
        nextCandidate();
    }

    // ---- relaying ---------------------------------------------------------------------------------------------

    @Override
    public void onEvent(Buffer buffer, int start, int end, SseEvents.Kind kind) {
        if (!committed) {
            commitStream();
        }
        if (kind == SseEvents.Kind.DATA) {
            notes.dataEvent(buffer, start, end);
        } else if (kind == SseEvents.Kind.USAGE) {
            notes.usageEvent(SseEvents.payload(buffer, start, end));
            if (!request.clientWantsUsage()) {
                return;
            }
        }
        batch.add(buffer, start, end);
    }

    @Override
    public void onChunkEnd() {
        batch.flushSoon();
    }

    /** After each write of relayed events: a client that cannot keep up pauses the upstream. */
    private void afterWrite() {
        if (current != null && client.writeQueueFull()) {
            UpstreamAttempt paused = current;
            paused.pause();
            // A client that reads nothing must not hold a backend slot (and a GPU sequence) until the total clock.
            long stall = services.vertx().setTimer(services.clientStallMs(), id -> onClientStalled());
            client.onDrain(() -> {
                services.vertx().cancelTimer(stall);
                paused.resume();
            });
        }
    }

    /** The client read nothing for the stall timeout: it loses its slot, its upstream request and its connection. */
    private void onClientStalled() {
        endForClient("client read nothing for " + services.clientStallMs() + " ms", "client_stalled");
    }

    /** The commit point of a stream: the first data event is about to be relayed. */
    private void commitStream() {
        committed = true;
        held.firstToken();
        String provider = candidates.get(candidateIndex).backend().name();
        if (client.headersSent()) {
            // The head left early with "pending"; name the provider in-band, where clients ignore it.
            client.write(Buffer.buffer(": provider=" + provider + " attempts=" + totalAttempts() + " max_tokens="
                    + candidates.get(candidateIndex).maxTokens() + "\n\n"));
        } else {
            client.startStream(provider, totalAttempts(), elapsedMs());
        }
    }

    private void complete(Backend backend, UpstreamAttempt.Result result) {
        finished = true;
        cancelTimers();
        if (request.stream()) {
            client.endStream(batch.take());
            notes.streamCompleted();
            closeRecord(Outcome.COMPLETED, 200, null);
            return;
        }
        committed = true;
        notes.answerCompleted(result.json(), result.body()); // a summary: usage and finish reasons, not the answer
        Buffer body = result.body();
        if (services.responseInfo()) {
            body = NonStreamAnswer.withGatewayInfo(body, backend.name(), elapsedMs(), totalAttempts());
        }
        client.sendJson(200, body, result.bodyLease(), backend.name(), totalAttempts(), elapsedMs());
        closeRecord(Outcome.COMPLETED, 200, null);
    }

    private void finish(OpenAiError error, String provider) {
        batch.flush();
        finished = true;
        cancelTimers();
        boolean headSent = client.headersSent();
        client.sendError(error, provider, totalAttempts(), elapsedMs());
        closeRecord(AllFailed.outcome(committed, attempts), headSent ? 200 : error.status(), error.code());
    }

    private void closeRecord(Outcome outcome, int status, String errorCode) {
        notes.close(committed, outcome, status, errorCode);
    }

    // ---- cancellation -------------------------------------------------------------------------------------------

    private void onClientGone() {
        endForClient("client disconnected", "client_cancelled");
    }

    /** Ends the request because of its client: the upstream request is closed at once, so vLLM frees the GPU. */
    private void endForClient(String why, String code) {
        if (finished) {
            return;
        }
        finished = true;
        cancelTimers();
        if (current != null) {
            Backend backend = current.backend();
            current.cancel();
            releaseAttempt(AttemptOutcome.CLIENT_CANCELLED, 0);
            attempts.add(new AttemptRecord(backend.name(), tryOnBackend, AttemptOutcome.CLIENT_CANCELLED, 0, 0, why));
        }
        if (!client.isGone()) {
            client.abort();
        }
        closeRecord(Outcome.CANCELLED, client.headersSent() ? 200 : 499, code);
    }

    /** Gives back what the attempt held of its backend. */
    private void releaseAttempt(AttemptOutcome outcome, int status) {
        held.release(outcome, status);
        current = null;
        held = null;
    }

    /**
     * The backend's drain deadline passed while this attempt ran: end the attempt now (on the request's own event
     * loop). Before the commit point the request moves on to the next candidate; after it, the stream ends with an
     * error event and {@code [DONE]}.
     */
    private void withdraw() {
        context.runOnContext(v -> {
            if (finished || current == null) {
                return;
            }
            current.cancel();
            onEnd(new UpstreamAttempt.Result(AttemptOutcome.WITHDRAWN, 0, null, null, held.backend().drainReason(),
                    held.elapsedMs(), null, null));
        });
    }

    /**
     * The non-stream bound passed before any answer: end the try in flight and answer 504 now, before the tunnel in
     * front would answer 524 with nothing a client can act on.
     */
    private void nonStreamExpired() {
        nonStreamTimer = -1;
        if (finished) {
            return;
        }
        String provider = GatewayHeaders.PROVIDER_NONE;
        if (current != null) {
            Backend backend = current.backend();
            provider = backend.name();
            current.cancel();
            long elapsed = held.elapsedMs();
            releaseAttempt(AttemptOutcome.TOTAL_TIMEOUT, 0);
            attempts.add(new AttemptRecord(backend.name(), tryOnBackend, AttemptOutcome.TOTAL_TIMEOUT, 0, elapsed,
                    "non-stream-total clock"));
            warnIfFailed(backend.name(), AttemptOutcome.TOTAL_TIMEOUT, 0);
        }
        finish(OpenAiError.server(504, "No answer within the non-stream time limit of "
                + services.nonStreamTotalMs() / 1000.0 + " s (clock gateway.defaults.clocks.non-stream-total, "
                + totalAttempts() + " attempt(s)). Send \"stream\": true for long generations: a stream has no such"
                + " limit.", "non_stream_timeout"), provider);
    }

    /**
     * One WARN line per attempt the backend or the gateway failed (a request's own fault is the client's business):
     * request id, backend name and outcome only. The detail is left out because it may quote the backend's URL.
     */
    private void warnIfFailed(String backend, AttemptOutcome outcome, int status) {
        if (outcome.fault() == AttemptOutcome.Fault.BACKEND || outcome.fault() == AttemptOutcome.Fault.GATEWAY) {
            LOG.warnf("Request %s: attempt %d on backend %s failed: %s%s", request.requestId(), tryOnBackend,
                    backend, outcome.label(), status > 0 ? " (HTTP " + status + ")" : "");
        }
    }

    private void cancelTimers() {
        keepAlive.stop();
        slotWaits.cancel();
        if (nonStreamTimer >= 0) {
            services.vertx().cancelTimer(nonStreamTimer);
            nonStreamTimer = -1;
        }
        if (retryTimer >= 0) {
            services.vertx().cancelTimer(retryTimer);
            retryTimer = -1;
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private int totalAttempts() {
        return attempts.size() + (current != null ? 1 : 0);
    }

    private long elapsedMs() {
        return (System.nanoTime() - request.startNanos()) / 1_000_000;
    }
}

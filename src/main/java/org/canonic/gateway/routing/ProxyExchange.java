package org.canonic.gateway.routing;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.NonStreamAnswer;
import org.canonic.gateway.backend.SseEvents;
import org.canonic.gateway.backend.UpstreamAttempt;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.placement.Placement;
import org.canonic.gateway.policy.Candidate;
import org.canonic.gateway.policy.ProxyRequest;
import org.canonic.gateway.relay.ClientChannel;
import org.canonic.gateway.relay.EventBatch;
import org.canonic.gateway.relay.GatewayHeaders;
import org.canonic.gateway.relay.KeepAlive;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.telemetry.AttemptRecord;
import org.canonic.gateway.telemetry.Outcome;
import org.canonic.gateway.telemetry.RequestRecord;

import java.util.List;

/**
 * One client request on its way through its candidates: the attempt loop, hedging and the commit point.
 *
 * <p>Until the commit point (the first upstream {@code data:} event relayed, or a whole non-stream body received)
 * any backend fault moves on: another try on the same backend after its retry delay, then the next candidate
 * ({@link CandidateWalk}). The status line waits for that moment, unless the keep-alive interval passes first; then
 * the 200 head and {@code : keep-alive} comments go out ({@link KeepAlive}: comments carry no data, so moving on is
 * still safe) and a final failure becomes an error event. After the commit point a failure can only end the stream
 * with an error event and {@code [DONE]}.
 *
 * <p>A stream whose first token is late for its prompt on its backend may be hedged ({@link Hedging}): a second
 * attempt starts on an idle candidate, and the first of the two to deliver a data event is the one committed; the
 * other is closed at once (its upstream connection reset, its slot given back). At most two attempts run at a time.
 *
 * <p>Each attempt holds a slot of its backend's concurrency limit, runs under the backend's circuit breaker from start
 * to end, and is registered with the backend so that a drain deadline can end it. Everything runs on the client
 * request's event loop: the upstream attempts, their timers and the client's callbacks all land there, so the state
 * below needs no locks.
 */
final class ProxyExchange implements Attempt.Owner {

    private final ProxyRequest request;
    private final Placement placement;
    private final ExchangeServices services;
    private final ClientChannel client;
    private final RequestRecord record;
    private final List<AttemptRecord> attempts;
    private final CandidateWalk walk;
    private final Hedging hedging;
    private final SlotWaits slotWaits;
    private final KeepAlive keepAlive;
    private final EventBatch batch;
    /** What the ledger record learns from the answer on its way. */
    private final AnswerNotes notes;

    private final Race race = new Race();
    /** The last primary attempt that failed, while its retry waits (its delay, its slot); null otherwise. */
    private Attempt retryOf;
    private Context context;
    private boolean committed;
    private boolean finished;
    private long retryTimer = -1;
    private long nonStreamTimer = -1;

    ProxyExchange(ProxyRequest request, Placement placement, ExchangeServices services, ClientChannel client,
                  RequestRecord record) {
        this.request = request;
        this.placement = placement;
        this.services = services;
        this.client = client;
        this.record = record;
        this.attempts = record.attempts();
        this.notes = new AnswerNotes(record, request, services.telemetry());
        this.batch = new EventBatch(client, services.vertx(), this::afterWrite);
        this.slotWaits = new SlotWaits(services.vertx(), services.concurrencyWaitMs(), request.keyId());
        this.walk = new CandidateWalk(placement.candidates(), placement.fallbacks(), placement.matchedBlocks(),
                placement.queuesAtEachCandidate(), slotWaits, request.keyId());
        this.hedging = new Hedging(services, placement, request.stream(), this::hedgeNow);
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
        walk.next(this::launchPrimary);
    }

    // ---- the attempt loop -------------------------------------------------------------------------------------

    /** Starts the primary attempt on candidate {@code index}, whose slot is taken; {@code NONE}: nothing is left. */
    private void launchPrimary(int index) {
        retryTimer = -1;
        if (finished) {
            if (index != CandidateWalk.NONE) {
                walk.candidate(index).backend().slots().release(request.keyId());
            }
            return;
        }
        if (index == CandidateWalk.NONE) {
            finish(AllFailed.answer(request, attempts, walk.skipped(), walk.skippedForCapacity()),
                    GatewayHeaders.PROVIDER_NONE);
            return;
        }
        boolean retry = retryOf != null && retryOf.index == index;
        int tryNumber = retry ? retryOf.tryNumber + 1 : 1;
        Buffer body = retry ? retryOf.body : UpstreamBody.forCandidate(request, walk.candidate(index), services.json());
        retryOf = null;
        Attempt attempt = launch(index, tryNumber, false, body);
        if (attempt == null) {
            walk.next(this::launchPrimary);
            return;
        }
        race.startPrimary(attempt);
        client.maxTokens(attempt.candidate.maxTokens());
        record.backend(attempt.name(), attempt.candidate.maxTokens());
        record.routing(placement.policy(), placement.reason(index).label(), placement.matchedBlocks(index),
                placement.promptBlocks());
        if (race.hedge() == null) {
            hedging.arm(attempt);
        }
    }

    /**
     * Starts an attempt on candidate {@code index} (its slot taken) under the backend's breaker; null when the breaker
     * refused it (the slot is then given back and the candidate passed over).
     */
    private Attempt launch(int index, int tryNumber, boolean isHedge, Buffer body) {
        Candidate candidate = walk.candidate(index);
        long uncached = placement.uncachedTokens(index);
        // vLLM prefills in arrival order: the first token waits for what this gateway queued there before it too.
        long prefill = candidate.backend().load().pendingPrefillTokens() + uncached;
        Attempt attempt = new Attempt(this, index, candidate, tryNumber, isHedge, body, uncached, prefill);
        if (!attempt.start(services, request, hedging.clocks(candidate.backend(), prefill), () -> withdraw(attempt),
                record.trace())) {
            walk.skip(candidate.backend().name() + " circuit breaker open");
            return null;
        }
        placement.sent(candidate.backend());
        return attempt;
    }

    /** The hedge timer fired: the primary's first token is late. Race it on an idle candidate, if the budget allows. */
    private void hedgeNow() {
        if (finished || committed || race.hedge() != null || race.primary() == null) {
            return;
        }
        int index = walk.takeIdle();
        if (index == CandidateWalk.NONE) {
            return;
        }
        if (!hedging.budgetAllows()) {
            walk.candidate(index).backend().slots().release(request.keyId());
            walk.giveBack(index);
            return;
        }
        Attempt attempt = launch(index, 1, true, UpstreamBody.forCandidate(request, walk.candidate(index),
                services.json()));
        if (attempt != null) {
            race.startHedge(attempt);
            record.hedge(attempt.name(), race.primary().held.elapsedMs());
        }
    }

    @Override
    public void onEnd(Attempt attempt, UpstreamAttempt.Result ended) {
        UpstreamAttempt.Result result = request.stream() ? ended : NonStreamTries.judged(attempt, ended, hedging);
        attempt.held.release(result.outcome(), result.status());
        attempts.add(attempt.traced(new AttemptRecord(attempt.name(), attempt.tryNumber, result.outcome(),
                result.status(), result.elapsedMs(), result.detail(), attempt.hedge)));
        attempt.warnIfFailed(request.requestId(), result.outcome(), result.status());
        Attempt other = race.forget(attempt);
        if (finished) {
            return;
        }
        if (result.outcome() == AttemptOutcome.COMPLETED) {
            complete(attempt, result);
        } else if (result.outcome() == AttemptOutcome.REJECTED_BY_BACKEND) {
            // The request itself is bad: another backend would refuse it too.
            end(other, AttemptOutcome.HEDGE_LOST, "the other attempt's answer decided the request");
            finish(UpstreamErrors.rejected(result.status(), result.body(), services.json().mapper()), attempt.name());
        } else if (!committed && other != null) {
            // The race goes on with the other attempt alone: it becomes the one the loop drives.
            if (attempt.hedge) {
                record.hedgeOutcome("failed");
            }
            race.carryOn(other);
        } else {
            onBackendFault(attempt, result);
        }
    }

    private void onBackendFault(Attempt attempt, UpstreamAttempt.Result result) {
        if (result.outcome() == AttemptOutcome.WITHDRAWN) {
            if (committed) {
                finish(OpenAiError.server(502, "The answer was ended before it was complete: " + result.detail()
                        + ". The answer above is incomplete.", "backend_withdrawn"), attempt.name());
            } else {
                walk.next(this::launchPrimary);
            }
            return;
        }
        if (committed) {
            if (result.outcome() == AttemptOutcome.REQUEST_TIME_LIMIT) {
                finish(OpenAiError.server(504, "The answer was ended by the gateway's total clock (" + result.detail()
                        + ", clock gateway.defaults.clocks.total). The answer above is incomplete: ask for fewer"
                        + " tokens.", "answer_time_limit"), attempt.name());
                return;
            }
            String message = result.outcome() == AttemptOutcome.STREAM_ERROR_EVENT
                    ? UpstreamErrors.streamErrorMessage(result.body(), services.json().mapper())
                    : "The backend failed mid-stream: " + result.outcome().description() + " (" + result.detail()
                    + "). The answer above is incomplete.";
            finish(OpenAiError.server(502, message, "upstream_stream_interrupted"), attempt.name());
            return;
        }
        LiveBackend backend = attempt.backend();
        if (attempt.tryNumber < backend.spec().tries()) {
            retryOf = attempt;
            retryTimer = services.vertx().setTimer(Math.max(1, backend.spec().retryDelayMs()),
                    id -> walk.retry(attempt.index, this::launchPrimary));
            return;
        }
        walk.next(this::launchPrimary);
    }

    // ---- relaying ---------------------------------------------------------------------------------------------

    @Override
    public void onEvent(Attempt attempt, Buffer buffer, int start, int end, SseEvents.Kind kind) {
        if (!committed) {
            commitStream(attempt);
        }
        if (kind == SseEvents.Kind.DATA) {
            notes.dataEvent(buffer, start, end);
        } else if (kind == SseEvents.Kind.USAGE) {
            notes.usageEvent(SseEvents.payloadBuffer(buffer, start, end));
            if (!request.clientWantsUsage()) {
                return;
            }
        }
        batch.add(buffer, start, end);
    }

    @Override
    public void onChunkEnd(Attempt attempt) {
        batch.flushSoon();
    }

    /** After each write of relayed events: a client that cannot keep up pauses the upstream. */
    private void afterWrite() {
        Attempt winner = race.winner();
        if (winner != null && !finished && client.writeQueueFull()) {
            UpstreamAttempt paused = winner.upstream;
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

    /**
     * The commit point of a stream: the first data event of {@code attempt} is about to be relayed. A hedge race ends
     * here: the other attempt is closed at once.
     */
    private void commitStream(Attempt attempt) {
        committed = true;
        hedging.disarm();
        Attempt loser = race.commit(attempt);
        if (loser != null || attempt.hedge) {
            record.hedgeOutcome(attempt.hedge ? "won" : "cancelled");
        }
        if (loser != null) {
            attempts.add(loser.cancel(AttemptOutcome.HEDGE_LOST, "the other attempt's first token came first"));
        }
        attempt.held.firstToken();
        record.backend(attempt.name(), attempt.candidate.maxTokens());
        record.routing(placement.policy(), placement.reason(attempt.index).label(),
                placement.matchedBlocks(attempt.index), placement.promptBlocks());
        client.maxTokens(attempt.candidate.maxTokens());
        if (client.headersSent()) {
            // The head left early with "pending"; name the provider in-band, where clients ignore it.
            client.write(Buffer.buffer(": provider=" + attempt.name() + " attempts=" + totalAttempts()
                    + " max_tokens=" + attempt.candidate.maxTokens() + "\n\n"));
        } else {
            client.startStream(attempt.name(), totalAttempts(), elapsedMs());
        }
    }

    /** Closes an attempt that runs but is no longer wanted (a race's loser, the client left), recording why. */
    private void end(Attempt running, AttemptOutcome why, String detail) {
        if (race.running(running)) {
            race.forget(running);
            attempts.add(running.cancel(why, detail));
        }
    }

    private void complete(Attempt attempt, UpstreamAttempt.Result result) {
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
            body = NonStreamAnswer.withGatewayInfo(body, attempt.name(), elapsedMs(), totalAttempts());
        }
        client.sendJson(200, body, result.bodyLease(), attempt.name(), totalAttempts(), elapsedMs());
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

    /** Ends the request because of its client: every upstream request is closed at once, so vLLM frees the GPU. */
    private void endForClient(String why, String code) {
        if (finished) {
            return;
        }
        finished = true;
        cancelTimers();
        end(race.hedge(), AttemptOutcome.CLIENT_CANCELLED, why);
        end(race.primary(), AttemptOutcome.CLIENT_CANCELLED, why);
        if (!client.isGone()) {
            client.abort();
        }
        closeRecord(Outcome.CANCELLED, client.headersSent() ? 200 : 499, code);
    }

    /**
     * The backend's drain deadline passed while {@code attempt} ran: end it now (on the request's own event loop).
     * Before the commit point the request moves on (to the other attempt of a race, or the next candidate); after it,
     * the stream ends with an error event and {@code [DONE]}.
     */
    private void withdraw(Attempt attempt) {
        context.runOnContext(v -> {
            if (finished || !race.running(attempt)) {
                return;
            }
            attempt.upstream.cancel();
            onEnd(attempt, new UpstreamAttempt.Result(AttemptOutcome.WITHDRAWN, 0, null, null,
                    attempt.backend().drainReason(), attempt.held.elapsedMs(), null, null));
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
        Attempt running = race.primary();
        if (running != null) {
            provider = running.name();
            // The client asked for more than fits the bound; the backend was generating it: not a backend fault.
            end(running, AttemptOutcome.REQUEST_TIME_LIMIT, "non-stream-total clock");
        }
        finish(OpenAiError.server(504, "No answer within the non-stream time limit of "
                + services.nonStreamTotalMs() / 1000.0 + " s (clock gateway.defaults.clocks.non-stream-total, "
                + totalAttempts() + " attempt(s)). Send \"stream\": true for long generations: a stream has no such"
                + " limit.", "non_stream_timeout"), provider);
    }

    private void cancelTimers() {
        keepAlive.stop();
        slotWaits.cancel();
        hedging.disarm();
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
        return attempts.size() + race.count();
    }

    private long elapsedMs() {
        return (System.nanoTime() - request.startNanos()) / 1_000_000;
    }
}

package org.canonic.gateway.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import org.canonic.gateway.backend.AttemptOutcome;
import org.canonic.gateway.backend.Backend;
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
    private BackendBreaker.Handle currentHandle;
    private LiveBackend currentBackend;
    /** Unregisters the current attempt from its backend's drain deadline. */
    private Runnable untrack;
    private long attemptStartNanos;
    private Context context;
    private Buffer currentBody;
    private boolean committed;
    private boolean finished;
    private final KeepAlive keepAlive;
    private final EventBatch batch;
    private long retryTimer = -1;
    private long nonStreamTimer = -1;

    /** The last data event relayed: where the finish reason is read from at the end, without parsing every event. */
    private Buffer lastData;
    private int lastDataStart;
    private int lastDataEnd;
    private boolean usageSeen;

    ProxyExchange(ProxyRequest request, List<Candidate> candidates, ExchangeServices services, ClientChannel client,
                  RequestRecord record) {
        this.request = request;
        this.candidates = candidates;
        this.services = services;
        this.client = client;
        this.record = record;
        this.attempts = record.attempts();
        this.batch = new EventBatch(client);
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
            finish(allFailed(), GatewayHeaders.PROVIDER_NONE);
            return;
        }
        Candidate candidate = candidates.get(candidateIndex);
        LiveBackend backend = candidate.backend();
        if (tryOnBackend == 0 && candidateIndex > 0 && !backend.routable()) {
            // Health may have changed since the candidates were ordered.
            skip(backend.describe());
            return;
        }
        backend.slots().acquire(services.vertx(), services.concurrencyWaitMs(), granted -> {
            if (finished) {
                if (granted) {
                    backend.slots().release();
                }
                return;
            }
            if (!granted) {
                skippedForCapacity = true;
                skip(backend.name() + " at its concurrency limit");
            } else if (!backend.accepting()) {
                // Drained while this request waited for (or retried on) it: a drain lets nothing new in.
                backend.slots().release();
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
            backend.slots().release();
            skip(backend.name() + " circuit breaker open");
            return;
        }
        if (tryOnBackend == 0) {
            currentBody = UpstreamBody.forCandidate(request, candidate, services.json());
        }
        tryOnBackend++;
        currentHandle = handle;
        currentBackend = backend;
        untrack = backend.track(this::withdraw);
        client.maxTokens(candidate.maxTokens());
        record.backend(backend.name(), candidate.maxTokens());
        current = new UpstreamAttempt(services.vertx(), backend.client(), spec,
                spec.endpoint().apiPath(request.endpoint().path()), upstreamHeaders(spec), currentBody,
                request.stream(), services.maxUpstreamBody(), this);
        attemptStartNanos = System.nanoTime();
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
        releaseAttempt(result.outcome());
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

    /** The answer when no candidate answered: the status fits the last failure, the message lists them all. */
    private OpenAiError allFailed() {
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
        if (last.outcome() == AttemptOutcome.BACKEND_BUSY || last.status() == 503) {
            return OpenAiError.server(503, message.toString(), "upstream_unavailable");
        }
        return OpenAiError.server(502, message.toString(), "upstream_failed");
    }

    // ---- relaying ---------------------------------------------------------------------------------------------

    @Override
    public void onEvent(Buffer buffer, int start, int end, SseEvents.Kind kind) {
        if (!committed) {
            commitStream();
        }
        if (kind == SseEvents.Kind.DATA) {
            record.tokenEvent(System.nanoTime());
            lastData = buffer;
            lastDataStart = start;
            lastDataEnd = end;
        } else if (kind == SseEvents.Kind.USAGE) {
            readUsage(SseEvents.payload(buffer, start, end));
            if (!request.clientWantsUsage()) {
                batch.flush();
                return;
            }
        }
        batch.add(buffer, start, end);
    }

    @Override
    public void onChunkEnd() {
        batch.flush();
        if (current != null && client.writeQueueFull()) {
            UpstreamAttempt paused = current;
            paused.pause();
            client.onDrain(paused::resume);
        }
    }

    /** The commit point of a stream: the first data event is about to be relayed. */
    private void commitStream() {
        committed = true;
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
            batch.flush();
            client.endStream();
            if (lastData != null) {
                record.finishReason(SseEvents.finishReason(lastData, lastDataStart, lastDataEnd));
            }
            closeRecord(Outcome.COMPLETED, 200, null);
            return;
        }
        committed = true;
        ObjectNode answer = result.json();
        usageSeen |= record.usageFrom(answer);
        record.finishReason(answer.path("choices").path(0).path("finish_reason").asText(null));
        if (services.telemetry().includeContent()) {
            record.content(promptContent(), answer.get("choices"));
        }
        Buffer body = result.body();
        if (services.responseInfo()) {
            answer.putObject("gateway")
                    .put("provider_used", backend.name())
                    .put("elapsed_ms", elapsedMs())
                    .put("attempts", totalAttempts());
            body = Buffer.buffer(services.json().write(answer));
        }
        client.sendJson(200, body, backend.name(), totalAttempts(), elapsedMs());
        closeRecord(Outcome.COMPLETED, 200, null);
    }

    private void finish(OpenAiError error, String provider) {
        batch.flush();
        finished = true;
        cancelTimers();
        boolean headSent = client.headersSent();
        client.sendError(error, provider, totalAttempts(), elapsedMs());
        closeRecord(failureOutcome(), headSent ? 200 : error.status(), error.code());
    }

    /** How a failed request is classed: after the commit point it was truncated; before, it depends on why. */
    private Outcome failureOutcome() {
        if (committed) {
            return Outcome.TRUNCATED;
        }
        if (!attempts.isEmpty() && attempts.get(attempts.size() - 1).outcome() == AttemptOutcome.REJECTED_BY_BACKEND) {
            return Outcome.REJECTED;
        }
        return attempts.isEmpty() ? Outcome.UNAVAILABLE : Outcome.FAILED;
    }

    /** Closes the request's record; usage the backend never reported is estimated from what was relayed. */
    private void closeRecord(Outcome outcome, int status, String errorCode) {
        if (!usageSeen && committed) {
            record.usage(request.promptTokens(), Math.max(0, record.tokenEvents() - 1), true);
        }
        if (services.telemetry().includeContent() && outcome != Outcome.COMPLETED) {
            record.content(promptContent(), null);
        }
        services.telemetry().close(record, outcome, status, errorCode);
    }

    private void readUsage(String usageChunk) {
        try {
            usageSeen |= record.usageFrom(services.json().mapper().readTree(usageChunk));
        } catch (Exception e) {
            // An unreadable usage chunk is the backend's problem; the estimate stands in.
        }
    }

    private JsonNode promptContent() {
        return request.body().has("messages") ? request.body().get("messages") : request.body().get("prompt");
    }

    // ---- cancellation -------------------------------------------------------------------------------------------

    private void onClientGone() {
        if (finished) {
            return;
        }
        finished = true;
        cancelTimers();
        if (current != null) {
            Backend backend = current.backend();
            current.cancel();
            releaseAttempt(AttemptOutcome.CLIENT_CANCELLED);
            attempts.add(new AttemptRecord(backend.name(), tryOnBackend, AttemptOutcome.CLIENT_CANCELLED, 0, 0,
                    "client disconnected"));
        }
        closeRecord(Outcome.CANCELLED, client.headersSent() ? 200 : 499, "client_cancelled");
    }

    /** Gives back the attempt's slot and tells the backend's breaker how it ended. */
    private void releaseAttempt(AttemptOutcome outcome) {
        untrack.run();
        currentBackend.slots().release();
        currentHandle.ended(outcome);
        current = null;
        currentHandle = null;
        currentBackend = null;
        untrack = null;
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
            UpstreamAttempt attempt = current;
            String why = currentBackend.drainReason();
            attempt.cancel();
            onEnd(new UpstreamAttempt.Result(AttemptOutcome.WITHDRAWN, 0, null, null, why,
                    (System.nanoTime() - attemptStartNanos) / 1_000_000, null));
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
            long elapsed = (System.nanoTime() - attemptStartNanos) / 1_000_000;
            releaseAttempt(AttemptOutcome.TOTAL_TIMEOUT);
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
                    backend, outcome.name().toLowerCase(java.util.Locale.ROOT), status > 0 ? " (HTTP " + status + ")" : "");
        }
    }

    private void cancelTimers() {
        keepAlive.stop();
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

    private MultiMap upstreamHeaders(Backend backend) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(request.forwardHeaders());
        headers.set(HttpHeaders.CONTENT_TYPE, "application/json");
        headers.set(HttpHeaders.ACCEPT, request.stream() ? "text/event-stream" : "application/json");
        headers.set(HttpHeaders.ACCEPT_ENCODING, "identity");
        headers.set(GatewayHeaders.REQUEST_ID, request.requestId());
        backend.authorization().ifPresent(value -> headers.set(HttpHeaders.AUTHORIZATION, value));
        return headers;
    }

    private int totalAttempts() {
        return attempts.size() + (current != null ? 1 : 0);
    }

    private long elapsedMs() {
        return (System.nanoTime() - request.startNanos()) / 1_000_000;
    }
}

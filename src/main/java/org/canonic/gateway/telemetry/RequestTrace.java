package org.canonic.gateway.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.vertx.core.MultiMap;
import org.canonic.gateway.backend.AttemptOutcome;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The spans of one proxied request: the request's own ({@code SERVER}, named {@code <operation> <model>} as the GenAI
 * conventions name a call) and one {@code CLIENT} child per attempt on a backend, whose context is what the backend
 * receives as {@code traceparent}. Attributes are set when each ends, from what the ledger record and the attempt
 * record say, so the request path only starts and ends spans.
 */
public final class RequestTrace {

    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("gen_ai.system");
    static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    static final AttributeKey<Long> MAX_TOKENS = AttributeKey.longKey("gen_ai.request.max_tokens");
    static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey(
            "gen_ai.response.finish_reasons");
    static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
    static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
    static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("gateway.request_id");
    static final AttributeKey<String> ROUTE = AttributeKey.stringKey("gateway.route");
    static final AttributeKey<String> BACKEND = AttributeKey.stringKey("gateway.backend");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("gateway.outcome");
    static final AttributeKey<Boolean> COMMITTED = AttributeKey.booleanKey("gateway.committed");
    static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("gateway.attempts");
    static final AttributeKey<Long> TRY = AttributeKey.longKey("gateway.attempt.try");
    static final AttributeKey<Boolean> HEDGE = AttributeKey.booleanKey("gateway.attempt.hedge");
    static final AttributeKey<String> FAULT = AttributeKey.stringKey("gateway.attempt.fault");
    /** Self-hosted vLLM behind every backend. */
    static final String VLLM = "vllm";

    private final Tracer tracer;
    private final Span span;
    private final Context context;

    RequestTrace(Tracer tracer, Context parent, long startEpochMs) {
        this.tracer = tracer;
        this.span = tracer.spanBuilder("chat").setParent(parent).setSpanKind(SpanKind.SERVER)
                .setStartTimestamp(startEpochMs, TimeUnit.MILLISECONDS).startSpan();
        this.context = parent.with(span);
    }

    /** The request span's ids: what the latency histograms' exemplars point to. */
    SpanContext spanContext() {
        return span.getSpanContext();
    }

    /**
     * Starts an attempt's span and puts its context into the upstream request's headers (replacing a
     * {@code traceparent} forwarded from the client: the backend's spans belong under the attempt).
     */
    public AttemptTrace attempt(String operation, String backend, String model, String host, int port, int tryNumber,
                                boolean hedge, MultiMap upstreamHeaders) {
        Span attempt = tracer.spanBuilder(operation + " " + model).setParent(context).setSpanKind(SpanKind.CLIENT)
                .setAttribute(OPERATION, operation).setAttribute(PROVIDER, VLLM).setAttribute(SYSTEM, VLLM)
                .setAttribute(REQUEST_MODEL, model).setAttribute(BACKEND, backend)
                .setAttribute(SERVER_ADDRESS, host).setAttribute(SERVER_PORT, (long) port)
                .setAttribute(TRY, (long) tryNumber).setAttribute(HEDGE, hedge).startSpan();
        upstreamHeaders.remove("tracestate");
        W3CTraceContextPropagator.getInstance().inject(context.with(attempt), upstreamHeaders,
                (headers, key, value) -> headers.set(key, value));
        return new AttemptTrace(attempt, model);
    }

    /** Ends the request's span with what its record says; called once, when the record closes. */
    void end(RequestRecord record) {
        String operation = record.operation() == null ? "chat" : record.operation();
        // A model name only once routing accepted it: before that it is whatever the client sent.
        String model = record.route() == null ? null : record.model();
        span.updateName(model == null ? operation : operation + " " + model);
        span.setAttribute(OPERATION, operation);
        span.setAttribute(PROVIDER, VLLM);
        span.setAttribute(SYSTEM, VLLM);
        span.setAttribute(REQUEST_ID, record.requestId());
        if (model != null) {
            span.setAttribute(REQUEST_MODEL, model);
        }
        if (record.route() != null) {
            span.setAttribute(ROUTE, record.route());
        }
        if (record.backend() != null) {
            span.setAttribute(BACKEND, record.backend());
        }
        if (record.maxTokens() > 0) {
            span.setAttribute(MAX_TOKENS, (long) record.maxTokens());
        }
        if (record.promptTokens() >= 0) {
            span.setAttribute(INPUT_TOKENS, (long) record.promptTokens());
        }
        if (record.completionTokens() >= 0) {
            span.setAttribute(OUTPUT_TOKENS, (long) record.completionTokens());
        }
        if (record.finishReason() != null) {
            span.setAttribute(FINISH_REASONS, List.of(record.finishReason()));
        }
        Outcome outcome = record.outcome();
        span.setAttribute(OUTCOME, outcome == null ? "unknown" : outcome.label());
        span.setAttribute(STATUS, (long) record.status());
        span.setAttribute(ATTEMPTS, (long) record.attempts().size());
        // The commit point: a data event went to the client (stream) or the whole answer did (non-stream).
        span.setAttribute(COMMITTED, record.tokenEvents() > 0 || outcome == Outcome.COMPLETED);
        double ttft = record.timeToFirstTokenMs();
        if (ttft >= 0) {
            span.addEvent("gen_ai.first_token", Attributes.empty(),
                    record.startedAtMs() * 1_000_000L + (long) (ttft * 1_000_000L), TimeUnit.NANOSECONDS);
        }
        if (outcome != Outcome.COMPLETED && outcome != Outcome.CANCELLED) {
            String error = record.errorCode() != null ? record.errorCode() : outcome == null ? "unknown"
                    : outcome.label();
            span.setAttribute(ERROR_TYPE, error);
            if (outcome != Outcome.REFUSED && outcome != Outcome.REJECTED) {
                span.setStatus(StatusCode.ERROR, error);
            }
        }
        span.end(record.startedAtMs() + record.elapsedMs(), TimeUnit.MILLISECONDS);
    }

    /** One attempt's span. */
    public static final class AttemptTrace {
        private final Span span;
        private final String model;

        AttemptTrace(Span span, String model) {
            this.span = span;
            this.model = model;
        }

        /** Ends it with how the attempt ended; returns the record, for chaining. */
        public AttemptRecord end(AttemptRecord attempt) {
            span.setAttribute(RESPONSE_MODEL, model);
            span.setAttribute(OUTCOME, attempt.outcome().label());
            span.setAttribute(FAULT, attempt.outcome().fault().label());
            if (attempt.status() > 0) {
                span.setAttribute(STATUS, (long) attempt.status());
            }
            // A client that left is no failure of the call, as on the request's span: outcome and fault say it.
            if (attempt.outcome().fault() != AttemptOutcome.Fault.NONE
                    && attempt.outcome() != AttemptOutcome.CLIENT_CANCELLED) {
                span.setAttribute(ERROR_TYPE, attempt.outcome().label());
                span.setStatus(StatusCode.ERROR, attempt.outcome().label());
            }
            span.end();
            return attempt;
        }
    }
}

package org.canonic.gateway.telemetry;

import io.opentelemetry.api.trace.SpanContext;
import io.prometheus.client.exemplars.Exemplar;
import io.prometheus.client.exemplars.ExemplarSampler;

/**
 * Links the latency histograms to traces: the Prometheus registry's exemplar sampler, which gives an observation of
 * request duration or time to first token the trace and span ids of the request it measured, shown on
 * {@code /q/metrics} (OpenMetrics) as {@code # {trace_id="...",span_id="..."} value timestamp} after the bucket.
 *
 * <p>The registry asks the sampler on every observation of every meter, without saying whose it is; the request is
 * passed beside it, on the recording thread, for exactly the span of the calls that record those two histograms
 * ({@link #observing} ... {@link #done}, in {@link GatewayMetrics#record}). Recording is synchronous, so nothing set
 * here outlives the request that set it or reaches another thread. Everything else gets no exemplar: counters (an
 * exemplar there would only repeat the histogram's), token and inter-token histograms, untraced requests and requests
 * whose client sampled the trace out (their spans are not exported, the link would lead nowhere). A new exemplar
 * always replaces the bucket's: the newest traced request of a bucket is the one an operator wants to open.
 *
 * <p>An untraced request never sets anything; its observations cost the registry one thread-local read here.
 */
public final class TraceExemplars implements ExemplarSampler {

    private static final String TRACE_ID = "trace_id";
    private static final String SPAN_ID = "span_id";
    private static final ThreadLocal<SpanContext> OBSERVING = new ThreadLocal<>();

    /** The spans whose observations follow on this thread, until {@link #done}; only a sampled, valid one counts. */
    static boolean observing(SpanContext span) {
        if (span == null || !span.isValid() || !span.isSampled()) {
            return false;
        }
        OBSERVING.set(span);
        return true;
    }

    /** Ends what {@link #observing} started on this thread. */
    static void done() {
        OBSERVING.remove();
    }

    @Override
    public Exemplar sample(double increment, Exemplar previous) {
        return null; // counters: no exemplar (null keeps whatever there is, which is nothing)
    }

    @Override
    public Exemplar sample(double value, double bucketFrom, double bucketTo, Exemplar previous) {
        SpanContext span = OBSERVING.get();
        if (span == null) {
            return null; // keeps the bucket's exemplar as it is
        }
        return new Exemplar(value, System.currentTimeMillis(), TRACE_ID, span.getTraceId(), SPAN_ID,
                span.getSpanId());
    }
}

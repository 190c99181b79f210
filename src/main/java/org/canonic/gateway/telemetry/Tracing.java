package org.canonic.gateway.telemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.vertx.core.MultiMap;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * OpenTelemetry traces of proxied requests, named and attributed per the GenAI semantic conventions: a span per
 * request ({@link RequestTrace}) continuing the client's W3C {@code traceparent}, and a child per attempt whose
 * context is sent upstream so that vLLM's own spans join the trace.
 *
 * <p>Off unless something exports: an OTLP/HTTP endpoint ({@code gateway.tracing.otlp-endpoint}) or an exporter added
 * with {@link #export(SpanExporter)}. Off, {@link #on()} is one volatile read and nothing else is done per request:
 * no span, no context, no header. Spans hold names, numbers and outcomes only: never a prompt, a completion or a key.
 */
public final class Tracing implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Tracing.class);
    static final String SCOPE = "org.canonic.gateway";

    private final SdkTracerProvider provider;
    private final Tracer tracer;
    private final List<SpanProcessor> processors = new CopyOnWriteArrayList<>();
    private volatile boolean on;

    private static final TextMapGetter<MultiMap> HEADERS = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(MultiMap carrier) {
            return carrier.names();
        }

        @Override
        public String get(MultiMap carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    /** @param otlpEndpoint the OTLP/HTTP traces URL ({@code http://collector:4318/v1/traces}); empty: off */
    public Tracing(Optional<String> otlpEndpoint, String serviceName) {
        this.provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
                        AttributeKey.stringKey("service.name"), serviceName))))
                // A client that sampled its trace out is followed; a request without a trace is always traced.
                .setSampler(Sampler.parentBased(Sampler.alwaysOn()))
                .addSpanProcessor(new Processors())
                .build();
        this.tracer = provider.get(SCOPE);
        otlpEndpoint.map(String::strip).filter(e -> !e.isEmpty()).ifPresent(endpoint -> {
            add(BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder().setEndpoint(endpoint).build()).build());
            LOG.infof("Traces go to %s (OTLP/HTTP)", endpoint);
        });
    }

    /** Whether spans are made at all. */
    public boolean on() {
        return on;
    }

    /** Adds an exporter (each span is handed to it as it ends): turns tracing on. */
    public void export(SpanExporter exporter) {
        add(SimpleSpanProcessor.create(exporter));
    }

    /** Removes an exporter added with {@link #export}; with none left, tracing is off again. */
    public void stopExporting(SpanExporter exporter) {
        processors.removeIf(p -> p instanceof SimpleSpanProcessor simple && simple.getSpanExporter() == exporter);
        on = !processors.isEmpty();
    }

    private void add(SpanProcessor processor) {
        processors.add(processor);
        on = true;
    }

    /** A request's span, continuing the trace the client's headers carry (a new trace without one); null when off. */
    public RequestTrace startRequest(MultiMap clientHeaders, long startEpochMs) {
        if (!on) {
            return null;
        }
        Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), clientHeaders, HEADERS);
        return new RequestTrace(tracer, parent, startEpochMs);
    }

    @Override
    public void close() {
        provider.shutdown().join(5, TimeUnit.SECONDS);
    }

    /** The processors of the moment: the OTLP batch processor, and whatever {@link #export} added. */
    private final class Processors implements SpanProcessor {
        @Override
        public void onStart(Context parentContext, ReadWriteSpan span) {
            for (SpanProcessor p : processors) {
                p.onStart(parentContext, span);
            }
        }

        @Override
        public boolean isStartRequired() {
            return false;
        }

        @Override
        public void onEnd(ReadableSpan span) {
            for (SpanProcessor p : processors) {
                p.onEnd(span);
            }
        }

        @Override
        public boolean isEndRequired() {
            return true;
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofAll(processors.stream().map(SpanProcessor::shutdown).toList());
        }

        @Override
        public CompletableResultCode forceFlush() {
            return CompletableResultCode.ofAll(processors.stream().map(SpanProcessor::forceFlush).toList());
        }
    }
}

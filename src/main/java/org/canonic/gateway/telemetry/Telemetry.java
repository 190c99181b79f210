package org.canonic.gateway.telemetry;

/**
 * Where every request ends up: {@link #open} when it arrives, {@link #close} exactly once when it is over, whatever
 * its fate. Closing records the metrics and hands the record to the ledger; both are cheap on the request path.
 */
public final class Telemetry {

    private final GatewayMetrics metrics;
    private final Ledger ledger;
    private final boolean includeContent;

    private final Tracing tracing;

    public Telemetry(GatewayMetrics metrics, Ledger ledger, boolean includeContent) {
        this(metrics, ledger, includeContent, new Tracing(java.util.Optional.empty(), "magic-gateway"));
    }

    public Telemetry(GatewayMetrics metrics, Ledger ledger, boolean includeContent, Tracing tracing) {
        this.metrics = metrics;
        this.ledger = ledger;
        this.includeContent = includeContent;
        this.tracing = tracing;
    }

    public RequestRecord open(String requestId, long startNanos) {
        return new RequestRecord(requestId, startNanos);
    }

    /** Opens the record and, when tracing is on, the request's span, continuing the trace the client's headers carry. */
    public RequestRecord open(String requestId, long startNanos, io.vertx.core.MultiMap clientHeaders) {
        RequestRecord record = new RequestRecord(requestId, startNanos);
        if (tracing.on()) {
            record.trace(tracing.startRequest(clientHeaders, record.startedAtMs()));
        }
        return record;
    }

    /** Whether the operator opted in to prompt and completion text in the ledger. */
    public boolean includeContent() {
        return includeContent;
    }

    /** Ends the record; later calls for the same record are ignored, so a request is counted once. */
    public void close(RequestRecord record, Outcome outcome, int status, String errorCode) {
        if (record.close(outcome, status, errorCode)) {
            record.runCloseAction();
            RequestTrace trace = record.trace();
            if (trace != null) {
                trace.end(record);
            }
            metrics.record(record);
            ledger.offer(record);
        }
    }
}

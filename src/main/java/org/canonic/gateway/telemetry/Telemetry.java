package org.canonic.gateway.telemetry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where every request ends up: {@link #open} when it arrives, {@link #close} exactly once when it is over, whatever
 * its fate. Closing records the metrics and hands the record to the ledger; both are cheap on the request path.
 */
public final class Telemetry {

    private final GatewayMetrics metrics;
    private final Ledger ledger;
    private final boolean includeContent;
    /**
     * The records opened and not yet closed: what a halt must still record. A concurrent set (one add and one remove
     * per request) rather than a scan of the exchanges, which live on every event loop.
     */
    private final Set<RequestRecord> inFlight = ConcurrentHashMap.newKeySet();

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
        RequestRecord record = new RequestRecord(requestId, startNanos);
        inFlight.add(record);
        return record;
    }

    /** Opens the record and, when tracing is on, the request's span, continuing the trace the client's headers carry. */
    public RequestRecord open(String requestId, long startNanos, io.vertx.core.MultiMap clientHeaders) {
        RequestRecord record = open(requestId, startNanos);
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
        inFlight.remove(record);
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

    /**
     * The process is about to halt: every request still in flight is recorded as {@code terminated} (status 0: no
     * final status was sent) and the ledger writes what it holds, for at most {@code boundMs}. Returns how many
     * requests were in flight. A request that ends meanwhile is recorded once, either way.
     */
    public int halt(long boundMs) {
        int terminated = 0;
        for (RequestRecord record : inFlight) {
            if (record.close(Outcome.TERMINATED, 0, "gateway_halted")) {
                ledger.offer(record);
                terminated++;
            }
        }
        inFlight.clear();
        ledger.close(boundMs);
        return terminated;
    }
}

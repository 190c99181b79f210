package org.canonic.gateway.telemetry;

/**
 * Where every request ends up: {@link #open} when it arrives, {@link #close} exactly once when it is over, whatever
 * its fate. Closing records the metrics and hands the record to the ledger; both are cheap on the request path.
 */
public final class Telemetry {

    private final GatewayMetrics metrics;
    private final Ledger ledger;
    private final boolean includeContent;

    public Telemetry(GatewayMetrics metrics, Ledger ledger, boolean includeContent) {
        this.metrics = metrics;
        this.ledger = ledger;
        this.includeContent = includeContent;
    }

    public RequestRecord open(String requestId, long startNanos) {
        return new RequestRecord(requestId, startNanos);
    }

    /** Whether the operator opted in to prompt and completion text in the ledger. */
    public boolean includeContent() {
        return includeContent;
    }

    /** Ends the record; later calls for the same record are ignored, so a request is counted once. */
    public void close(RequestRecord record, Outcome outcome, int status, String errorCode) {
        if (record.close(outcome, status, errorCode)) {
            record.runCloseAction();
            metrics.record(record);
            ledger.offer(record);
        }
    }
}

package org.canonic.gateway.backend;

/**
 * How one attempt against one backend ended. Every outcome is either a request fault (the caller's doing:
 * never retried, never held against the backend), a backend fault (retried, then handed to the next
 * candidate, and counted against the backend's health) or a gateway fault (the gateway's own limit: handled like a
 * backend fault for the request, but never held against the backend).
 */
public enum AttemptOutcome {
    /** The backend answered in full. */
    COMPLETED(Fault.NONE, "completed"),
    /**
     * The backend refused the request itself (400, 413, 414, 422, 431: invalid, or too large in body, URL or headers):
     * relayed to the client as is. The identical request cannot succeed on a retry or on another backend.
     */
    REJECTED_BY_BACKEND(Fault.REQUEST, "rejected the request"),
    /** The client went away; the upstream request was closed. */
    CLIENT_CANCELLED(Fault.REQUEST, "client cancelled"),
    /**
     * A hedged request's other attempt delivered the first token first; this one was closed at once. Nobody's fault:
     * it was slower, not wrong.
     */
    HEDGE_LOST(Fault.NONE, "closed: a hedge answered first"),
    /**
     * A clock the gateway runs because of what the client asked for ran out while the backend was doing its work: the
     * bound on a whole non-stream request (a long answer asked for without streaming), a non-stream try's clock before
     * the answer asked for could be generated, or a stream's total clock after its first token (a long answer, still
     * flowing). The backend was generating what it was asked to, so this
     * is the request's fault, never the backend's: counted, one key's long requests would open every breaker.
     */
    REQUEST_TIME_LIMIT(Fault.REQUEST, "cut short by the gateway's time limit for the request"),
    /** The gateway took the backend out of service while the attempt ran (a drain deadline passed). */
    WITHDRAWN(Fault.GATEWAY, "withdrawn: the backend was drained"),

    /** TCP connect refused, reset or unresolvable host. */
    CONNECT_FAILED(Fault.BACKEND, "connection failed"),
    /** The connect clock expired. */
    CONNECT_TIMEOUT(Fault.BACKEND, "connect timeout"),
    /** The first-token clock expired before the first {@code data:} event (or, non-stream, the response). */
    FIRST_TOKEN_TIMEOUT(Fault.BACKEND, "first-token timeout"),
    /** The idle clock expired between two events. */
    IDLE_TIMEOUT(Fault.BACKEND, "idle timeout"),
    /** The total clock expired before any answer arrived (after the first token: {@link #REQUEST_TIME_LIMIT}). */
    TOTAL_TIMEOUT(Fault.BACKEND, "total timeout"),
    /** The backend answered 5xx, or a 4xx that says the gateway's side of the link is wrong (401, 403, 404). */
    BACKEND_ERROR_STATUS(Fault.BACKEND, "error status"),
    /** The backend is over capacity (429). */
    BACKEND_BUSY(Fault.BACKEND, "busy"),
    /** A 200 that is not the promised shape: wrong content type, unparseable body, or garbage in the stream. */
    MALFORMED_RESPONSE(Fault.BACKEND, "malformed response"),
    /** The backend reported an error in the stream ({@code data: {"error":...}}). */
    STREAM_ERROR_EVENT(Fault.BACKEND, "error event in stream"),
    /** The connection dropped, or the stream ended without {@code data: [DONE]}. */
    TRUNCATED(Fault.BACKEND, "cut short"),

    /**
     * A non-stream answer did not fit the gateway's memory budget (other bodies held it): the attempt is abandoned
     * rather than risking the heap. Not the backend's fault, so its breaker never counts it.
     */
    OVER_BUDGET(Fault.GATEWAY, "over the gateway's memory budget");

    /**
     * Whose fault an outcome is. {@code GATEWAY}: the gateway's own decision or limit (a drain, its memory budget),
     * held against nobody.
     */
    public enum Fault {
        NONE, REQUEST, BACKEND, GATEWAY;

        private final String label = name().toLowerCase(java.util.Locale.ROOT);

        /** The name as the ledger and the metrics write it. */
        public String label() {
            return label;
        }
    }

    private final Fault fault;
    private final String description;
    private final String label = name().toLowerCase(java.util.Locale.ROOT);

    AttemptOutcome(Fault fault, String description) {
        this.fault = fault;
        this.description = description;
    }

    /** The name as the ledger and the metrics write it ({@code first_token_timeout}). */
    public String label() {
        return label;
    }

    public Fault fault() {
        return fault;
    }

    public boolean isBackendFault() {
        return fault == Fault.BACKEND;
    }

    public boolean isTimeout() {
        return this == CONNECT_TIMEOUT || this == FIRST_TOKEN_TIMEOUT || this == IDLE_TIMEOUT || this == TOTAL_TIMEOUT
                || this == REQUEST_TIME_LIMIT;
    }

    /** Short human text for error messages and logs. */
    public String description() {
        return description;
    }

    /**
     * Classifies an upstream HTTP status. 400, 413, 414, 422 and 431 say the request itself is bad (its body, size,
     * URL or headers): counting them against the backend would let one client open every breaker for everyone, and
     * retrying them cannot help. 401, 403 and 404 come from the gateway's own upstream key, model id or URL being
     * wrong (vLLM answers 404 for a model it does not serve): the backend link's fault, not the client's, so the
     * next candidate may well succeed. Everything else (5xx, 408, 405, ...) is the backend's.
     */
    public static AttemptOutcome ofStatus(int status) {
        if (status >= 200 && status < 300) {
            return COMPLETED;
        }
        if (status == 400 || status == 413 || status == 414 || status == 422 || status == 431) {
            return REJECTED_BY_BACKEND;
        }
        if (status == 429) {
            return BACKEND_BUSY;
        }
        return BACKEND_ERROR_STATUS;
    }
}

package org.canonic.gateway.state;

/**
 * The shared state store did not answer, so the change that needed it was not made: the gateway fails closed (503
 * with Retry-After) rather than act on state another replica may hold differently. Proxying does not need the
 * store and goes on.
 */
public final class StateStoreUnavailable extends RuntimeException {

    public static final String CODE = "state_store_unavailable";
    /** What a refused caller is told to wait before retrying. */
    public static final long RETRY_AFTER_SECONDS = 5;

    public StateStoreUnavailable(String where, Throwable cause) {
        super("The shared state store (" + where + ") is unavailable, so nothing was changed; retry when it is back.",
                cause);
    }
}

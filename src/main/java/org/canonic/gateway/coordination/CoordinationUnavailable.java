package org.canonic.gateway.coordination;

/**
 * The state directory or the audit log could not be written, so the change was not made (503): the gateway fails
 * closed rather than change anything it cannot persist or account for.
 */
public final class CoordinationUnavailable extends RuntimeException {

    public static final String AUDIT = "audit_unavailable";
    public static final String STATE = "state_unavailable";

    private final String code;

    public CoordinationUnavailable(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** {@value #AUDIT} or {@value #STATE}. */
    public String code() {
        return code;
    }
}

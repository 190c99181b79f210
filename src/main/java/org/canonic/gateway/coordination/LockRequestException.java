package org.canonic.gateway.coordination;

/**
 * A lock request that cannot be carried out as asked (a bad TTL, a missing holder or token, no lock to release):
 * nothing was changed. {@link #status()} is the HTTP status it maps to (400 or 409).
 */
public final class LockRequestException extends RuntimeException {

    private final int status;
    private final String param;
    private final String code;

    public LockRequestException(int status, String message, String param, String code) {
        super(message);
        this.status = status;
        this.param = param;
        this.code = code;
    }

    public static LockRequestException invalid(String message, String param, String code) {
        return new LockRequestException(400, message, param, code);
    }

    public int status() {
        return status;
    }

    /** The request field or header at fault, or null. */
    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}

package org.canonic.gateway.fleet;

/**
 * A registry change that was refused, and why: the status and code the admin API answers with. Nothing changed.
 */
public final class FleetException extends RuntimeException {

    private final int status;
    private final String code;

    public FleetException(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }

    static FleetException invalid(java.util.List<String> problems) {
        return new FleetException(400, "invalid_backend", String.join("; ", problems) + ".");
    }

    static FleetException notFound(String name) {
        return new FleetException(404, "backend_not_found", "No backend is named '" + name + "'.");
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}

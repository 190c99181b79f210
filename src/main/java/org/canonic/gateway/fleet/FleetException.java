package org.canonic.gateway.fleet;

import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.io.IOException;

/**
 * A registry change that was refused, and why: the status and code the admin API answers with. Nothing changed.
 */
public final class FleetException extends RuntimeException {

    private static final Logger LOG = Logger.getLogger(Fleet.class);

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

    /** What a registry change whose save failed answers with (the change was undone), logged once. */
    static FleetException unpersisted(IOException e) {
        if (e.getCause() instanceof FleetException refused) {
            return refused;
        }
        if (e.getCause() instanceof StateStoreUnavailable shared) {
            LOG.errorf("The registry could not be saved to the shared state store; the change was undone");
            return new FleetException(503, StateStoreUnavailable.CODE, shared.getMessage());
        }
        LOG.errorf("The registry could not be saved to the state directory (%s); the change was undone", e.toString());
        return new FleetException(503, "state_unavailable", "The change could not be saved to the state directory,"
                + " so it was not made. Check that GATEWAY_STATE_DIR is writable and retry.");
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}

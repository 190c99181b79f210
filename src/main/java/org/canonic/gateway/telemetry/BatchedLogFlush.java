package org.canonic.gateway.telemetry;

import org.jboss.logmanager.ExtHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Logger;

/**
 * Turns the per-record flush of the handlers a logger's records go through into one flush per batch.
 *
 * <p>A console handler flushes after every record: for the ledger's log line that is one {@code write(2)} per
 * request, on the same core as the request path (measured at ~3 us of the gateway's ~75 us of CPU per non-stream
 * request on one core). While a batch is written the handlers only buffer (their writer's buffer; a full buffer is
 * written as usual), and {@link #end()} flushes them once. What other threads log meanwhile goes into the same
 * buffer in order and is flushed with the batch, within the time the batch takes to format.
 *
 * <p>Only handlers that flush per record are touched, and each is given back its own setting: a handler configured
 * not to flush stays so, and one that refuses the change (a protected handler) keeps flushing per record.
 */
final class BatchedLogFlush {

    private final Logger logger;
    private final List<ExtHandler> held = new ArrayList<>();

    BatchedLogFlush(String category) {
        this.logger = Logger.getLogger(category);
    }

    /**
     * Stops per-record flushing on every handler a record of the category reaches now (walked again per batch, as
     * handlers may be added or replaced at run time).
     */
    void begin() {
        for (Logger node = logger; node != null; node = node.getUseParentHandlers() ? node.getParent() : null) {
            for (Handler handler : node.getHandlers()) {
                hold(handler);
            }
        }
    }

    /** Flushes what the batch buffered and gives every held handler its per-record flush back. */
    void end() {
        for (ExtHandler handler : held) {
            handler.setAutoFlush(true); // flushes
        }
        held.clear();
    }

    private void hold(Handler handler) {
        if (!(handler instanceof ExtHandler ext)) {
            return;
        }
        for (Handler nested : ext.getHandlers()) {
            hold(nested);
        }
        if (ext.isAutoFlush() && !held.contains(ext)) {
            try {
                ext.setAutoFlush(false);
                held.add(ext);
            } catch (SecurityException protectedHandler) {
                // Its owner locked its settings: it keeps flushing per record.
            }
        }
    }
}

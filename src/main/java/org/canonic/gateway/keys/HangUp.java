package org.canonic.gateway.keys;

import org.jboss.logging.Logger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * {@code SIGHUP} re-reads the key file at once. {@code sun.misc.Signal} (module {@code jdk.unsupported}) is what
 * Quarkus itself uses for its signal handlers, in the JVM and in native images alike. Without a handler, the JVM
 * treats {@code SIGHUP} as a request to exit; with {@code -Xrs} (or where the signal is reserved) the handler cannot
 * be installed, and a process that inherited {@code SIGHUP} as ignored ({@code nohup}) never receives it: both are
 * logged, and the key file is then still re-read when it changes.
 */
final class HangUp {

    private static final Logger LOG = Logger.getLogger(HangUp.class);

    private final Signal signal;
    private final SignalHandler previous;

    private HangUp(Signal signal, SignalHandler previous) {
        this.signal = signal;
        this.previous = previous;
    }

    /** The installed handler, or null when {@code SIGHUP} cannot be handled in this process. */
    static HangUp install(Runnable onHangUp) {
        try {
            Signal hup = new Signal("HUP");
            SignalHandler previous = Signal.handle(hup, signal -> onHangUp.run());
            if (previous == SignalHandler.SIG_IGN) {
                // Inherited as ignored (nohup, some supervisors): the JVM then keeps it ignored whatever is asked,
                // without saying so. Say it here rather than promise a reload that never comes.
                LOG.info("SIGHUP is ignored in this process (started under nohup or by a parent that ignores it), so "
                        + "it cannot re-read the key file; the file is still re-read when it changes");
                return null;
            }
            return new HangUp(hup, previous);
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            LOG.infof("SIGHUP cannot be handled in this process (%s); the key file is still re-read when it changes",
                    e.toString());
            return null;
        }
    }

    void restore() {
        try {
            Signal.handle(signal, previous);
        } catch (IllegalArgumentException e) {
            // the process is stopping
        }
    }
}

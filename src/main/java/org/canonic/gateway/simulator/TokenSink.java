package org.canonic.gateway.simulator;

/**
 * Where an engine delivers what a request produced. Called on the engine's thread, in order, once per step at most:
 * an implementation that writes to a connection must hand the work to that connection's own thread.
 */
interface TokenSink {

    /**
     * @param token    the index of the answer token sampled in this step, or -1 when none was
     * @param finished true when the request ended with this step (its last token, if any, is {@code token})
     */
    void emit(int token, boolean finished);
}

package org.canonic.gateway.policy;

import org.canonic.gateway.backend.Backend;

/** What the policy stage needs to know about a backend to fit a prompt: implemented by the health stage. */
public interface BackendFacts {

    /** The backend's context window in tokens (learned from its probes, else configured), 0 when unknown. */
    int window(Backend backend);

    /** Whether it is worth asking the backend anything right now (worth a {@code /tokenize} call). */
    boolean reachable(Backend backend);

    /** Windows as configured, every backend reachable: for wiring without health checks. */
    BackendFacts CONFIGURED = new BackendFacts() {
        @Override
        public int window(Backend backend) {
            return backend.contextWindow();
        }

        @Override
        public boolean reachable(Backend backend) {
            return true;
        }
    };
}

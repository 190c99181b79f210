package org.canonic.gateway.config;

import java.util.List;

/**
 * Thrown at start-up when the configuration cannot be trusted. Lists every problem at once so an operator fixes
 * them in one go instead of one restart per mistake.
 */
public final class InvalidConfigurationException extends RuntimeException {

    private final List<String> problems;

    public InvalidConfigurationException(List<String> problems) {
        super("magic-gateway refuses to start; fix these configuration problems:\n  - "
                + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}

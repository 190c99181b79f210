package org.canonic.gateway.config;

import io.quarkus.runtime.configuration.ConfigurationException;

import java.util.List;

/**
 * Thrown at start-up when the configuration cannot be trusted. Lists every problem at once so an operator fixes
 * them in one go instead of one restart per mistake.
 *
 * <p>A Quarkus {@link ConfigurationException} on purpose: when it is the root cause of a failed start, Quarkus
 * prints only its message, so the operator reads one block of problems instead of hunting for it in a stack trace.
 * For the same reason it carries no stack trace of its own.
 */
public final class InvalidConfigurationException extends ConfigurationException {

    public static final String HEADLINE = "magic-gateway refuses to start; fix these configuration problems:";

    private final List<String> problems;

    public InvalidConfigurationException(List<String> problems) {
        super(HEADLINE + "\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    /** The problems are the whole story; where in the start-up they were found is not. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}

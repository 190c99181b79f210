package org.canonic.gateway.compute;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Resolves a provider's API key, in this order: the provider's secret file ({@code VASTAI_API_KEY_FILE}), the
 * environment variable ({@code VASTAI_API_KEY}), then a dotenv file ({@code VASTAI_DOTENV_PATH}, simple
 * {@code KEY=VALUE} lines). Never from a literal in configuration, and the key is never logged or put in a message.
 * Resolved at every call, so a rotated secret file takes effect without a restart.
 */
public final class ApiKeys {

    private final String variable;
    private final Optional<String> file;
    private final Optional<String> dotenv;
    private final Function<String, String> environment;
    private final List<String> dotenvNames;

    public ApiKeys(String variable, Optional<String> file, Optional<String> dotenv,
                   Function<String, String> environment) {
        this(variable, file, dotenv, environment, List.of(variable));
    }

    /** @param dotenvNames the names looked for in the dotenv file, first found wins */
    public ApiKeys(String variable, Optional<String> file, Optional<String> dotenv,
                   Function<String, String> environment, List<String> dotenvNames) {
        this.variable = variable;
        this.file = file.filter(s -> !s.isBlank());
        this.dotenv = dotenv.filter(s -> !s.isBlank());
        this.environment = environment;
        this.dotenvNames = List.copyOf(dotenvNames);
    }

    /** The key, or empty when no source holds one. */
    public Optional<String> resolve() {
        if (file.isPresent()) {
            try {
                String value = Files.readString(Path.of(file.get()), StandardCharsets.UTF_8).strip();
                if (!value.isEmpty()) {
                    return Optional.of(value);
                }
            } catch (IOException | RuntimeException e) {
                // Fall through to the next source; describe() says where the gateway looked.
            }
        }
        String env = environment.apply(variable);
        if (env != null && !env.isBlank()) {
            return Optional.of(env.strip());
        }
        if (dotenv.isPresent()) {
            try {
                List<String> lines = Files.readAllLines(Path.of(dotenv.get()), StandardCharsets.UTF_8);
                for (String name : dotenvNames) {
                    Optional<String> value = dotenvValue(lines, name);
                    if (value.isPresent()) {
                        return value;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // No key from the dotenv file either.
            }
        }
        return Optional.empty();
    }

    private static Optional<String> dotenvValue(List<String> lines, String name) {
        for (String line : lines) {
            String trimmed = line.strip();
            if (trimmed.startsWith("export ")) {
                trimmed = trimmed.substring(7).strip();
            }
            int eq = trimmed.indexOf('=');
            if (!trimmed.startsWith("#") && eq > 0 && trimmed.substring(0, eq).strip().equals(name)) {
                String value = unquote(trimmed.substring(eq + 1).strip());
                if (!value.isEmpty()) {
                    return Optional.of(value);
                }
            }
        }
        return Optional.empty();
    }

    /** Where the key is looked for, for error messages (paths and names, never the key). */
    public String describe() {
        return (file.map(f -> "file " + f + ", ").orElse("")) + "environment variable " + variable
                + dotenv.map(d -> ", dotenv " + d).orElse("");
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                || value.startsWith("'") && value.endsWith("'"))) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}

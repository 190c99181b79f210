package org.canonic.gateway.fleet;

import org.canonic.gateway.backend.Backend;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where a backend's upstream key comes from. Configured backends get theirs from configuration (which itself reads
 * the environment or a secret file); backends registered at run time name a reference instead, an environment
 * variable or a secret file, so the key is never sent to the admin API, never stored in the state directory and
 * never echoed back. The reference is resolved when the backend is registered and again at every start.
 */
public sealed interface ApiKeyRef {

    /** A key given by configuration; never persisted. */
    record Configured(Backend.Secret secret) implements ApiKeyRef {
        @Override
        public String describe() {
            return "configured";
        }
    }

    /** The name of an environment variable of the gateway's process. */
    record Env(String variable) implements ApiKeyRef {
        @Override
        public String describe() {
            return "env:" + variable;
        }
    }

    /** The path of a mounted secret file (its content, trimmed, is the key). */
    record File(String path) implements ApiKeyRef {
        @Override
        public String describe() {
            return "file:" + path;
        }
    }

    /** Secret-free description for views and the audit file. */
    String describe();

    /**
     * Reads the key. A reference that cannot be read (unset variable, missing or empty file) adds a problem and gives
     * empty: a backend is never started without the key it was registered with.
     */
    default Optional<Backend.Secret> resolve(String key, List<String> problems, Function<String, String> environment) {
        if (this instanceof Configured configured) {
            return Optional.of(configured.secret());
        }
        if (this instanceof Env env) {
            String value = environment.apply(env.variable());
            if (value == null || value.isBlank()) {
                problems.add(key + " names the environment variable " + env.variable()
                        + ", which is not set in the gateway's environment");
                return Optional.empty();
            }
            return Optional.of(new Backend.Secret(value.strip()));
        }
        File file = (File) this;
        try {
            String value = Files.readString(Path.of(file.path()), StandardCharsets.UTF_8).strip();
            if (value.isEmpty()) {
                problems.add(key + " names the file " + file.path() + ", which is empty");
                return Optional.empty();
            }
            return Optional.of(new Backend.Secret(value));
        } catch (IOException | RuntimeException e) {
            problems.add(key + " names the file " + file.path() + ", which cannot be read");
            return Optional.empty();
        }
    }
}

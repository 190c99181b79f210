package org.canonic.gateway.fleet;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.config.GatewayConfig;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Where a backend's key may come from, and what a key may look like. A key reference given through the admin API is
 * a way to make the gateway read something and send it to an address of the caller's choosing, so it may point only
 * where the operator put backend keys:
 * <ul>
 *   <li>a file ({@code api_key_file}) inside {@code gateway.secrets.dir} or the state directory's
 *       {@value #COMPUTE_KEYS_DIR} (the rented machines' keys), once symbolic links are followed; a regular file of
 *       at most {@value #MAX_FILE_BYTES} bytes, so a FIFO or a device is refused before it is opened;</li>
 *   <li>an environment variable ({@code api_key_env}) whose name starts with {@code gateway.secrets.env-prefix};
 *       the gateway's own settings and the provider account keys never, whatever the prefix.</li>
 * </ul>
 * Files named by the operator's own configuration ({@code gateway.backends.<name>.api-key-file}) may be anywhere,
 * but obey the same file and content rules. A key is 1 to {@value #MAX_KEY_CHARS} visible ASCII characters: anything
 * else (a whole file of text, NUL bytes, line breaks) is refused, and no message ever repeats the content.
 */
public record KeyPolicy(List<Path> fileRoots, String secretsDirSetting, String envPrefix) {

    /** The state directory's subdirectory holding the rented machines' vLLM keys (compute). */
    public static final String COMPUTE_KEYS_DIR = "compute-keys";
    public static final int MAX_FILE_BYTES = 16 * 1024;
    public static final int MAX_KEY_CHARS = 4096;

    private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1," + MAX_KEY_CHARS + "}");
    private static final Pattern PREFIX = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
    /** Never a backend key, whatever the prefix allows: the gateway's own settings and secrets. */
    private static final List<String> FORBIDDEN_PREFIXES = List.of("GATEWAY_", "QUARKUS_");
    private static final List<String> FORBIDDEN_PARTS = List.of("ACCOUNT_KEY", "ADMIN_TOKEN", "PASSWORD",
            "WEBHOOK_SECRET", "STATE_KEY", "REDIS");

    /** The policy the configuration sets. */
    public static KeyPolicy of(GatewayConfig config) {
        return new KeyPolicy(List.of(Path.of(config.secrets().dir()),
                Path.of(config.state().dir()).resolve(COMPUTE_KEYS_DIR)),
                "gateway.secrets.dir (" + config.secrets().dir() + ")", config.secrets().envPrefix());
    }

    /**
     * The key an admin reference names, or empty with a problem added ({@code field} names the reference as the
     * caller spelled it). {@code restricted}: the reference came through the admin API (or was stored from it).
     */
    Optional<Backend.Secret> resolve(ApiKeyRef ref, String field, boolean restricted, List<String> problems,
                                     Function<String, String> environment) {
        if (ref instanceof ApiKeyRef.Configured configured) {
            return Optional.of(configured.secret());
        }
        if (ref instanceof ApiKeyRef.Env env) {
            return fromEnvironment(env.variable(), field, problems, environment);
        }
        return fromFile(((ApiKeyRef.File) ref).path(), field, restricted, problems);
    }

    private Optional<Backend.Secret> fromEnvironment(String variable, String field, List<String> problems,
                                                     Function<String, String> environment) {
        String upper = variable.toUpperCase(Locale.ROOT);
        boolean forbidden = FORBIDDEN_PREFIXES.stream().anyMatch(upper::startsWith)
                || FORBIDDEN_PARTS.stream().anyMatch(upper::contains);
        if (forbidden) {
            problems.add(field + " may not name the gateway's own settings or secrets (GATEWAY_*, QUARKUS_*, "
                    + "account keys, tokens, passwords)");
            return Optional.empty();
        }
        if (!PREFIX.matcher(envPrefix).matches()
                || FORBIDDEN_PREFIXES.stream().anyMatch(envPrefix.toUpperCase(Locale.ROOT)::startsWith)) {
            problems.add(field + " cannot be used: gateway.secrets.env-prefix must be a variable name prefix "
                    + "(A-Z, 0-9, _) other than GATEWAY_ or QUARKUS_");
            return Optional.empty();
        }
        if (!variable.startsWith(envPrefix)) {
            problems.add(field + " must name a variable starting with " + envPrefix
                    + " (gateway.secrets.env-prefix), got " + variable);
            return Optional.empty();
        }
        String value = environment.apply(variable);
        if (value == null || value.isBlank()) {
            problems.add(field + " names the environment variable " + variable
                    + ", which is not set in the gateway's environment");
            return Optional.empty();
        }
        return checked(value.strip(), field + " names the environment variable " + variable, problems);
    }

    private Optional<Backend.Secret> fromFile(String file, String field, boolean restricted, List<String> problems) {
        return readFile(file, field, restricted, problems)
                .flatMap(value -> checked(value.strip(), field + " names the file " + file, problems));
    }

    /**
     * The content (not blank) of a small file a backend setting names: a key or a pinned certificate.
     * Looked at before it is opened (opening a FIFO blocks, a device has no end): a regular file of at most
     * {@value #MAX_FILE_BYTES} bytes, inside the allowed directories when {@code restricted}. Empty with a problem
     * added otherwise; the problem never contains the content.
     */
    public Optional<String> readFile(String file, String field, boolean restricted, List<String> problems) {
        String named = field + " names the file " + file;
        try {
            Path real = Path.of(file.strip()).toRealPath();
            if (restricted && !inside(real)) {
                problems.add(named + ", which is outside " + secretsDirSetting
                        + ": the files of registered backends must be there");
                return Optional.empty();
            }
            BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                problems.add(named + ", which is not a regular file");
                return Optional.empty();
            }
            byte[] content = new byte[0];
            if (attributes.size() <= MAX_FILE_BYTES) {
                try (InputStream in = Files.newInputStream(real)) {
                    content = in.readNBytes(MAX_FILE_BYTES + 1);
                }
            }
            if (attributes.size() > MAX_FILE_BYTES || content.length > MAX_FILE_BYTES) {
                problems.add(named + ", which is larger than " + MAX_FILE_BYTES + " bytes");
                return Optional.empty();
            }
            String value = new String(content, StandardCharsets.UTF_8);
            if (value.isBlank()) {
                problems.add(named + ", which is empty");
                return Optional.empty();
            }
            return Optional.of(value);
        } catch (NoSuchFileException e) {
            problems.add(named + ", which cannot be read: it does not exist");
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            problems.add(named + ", which cannot be read (" + e.getClass().getSimpleName() + ")");
            return Optional.empty();
        }
    }

    private boolean inside(Path real) {
        for (Path root : fileRoots) {
            try {
                if (real.startsWith(root.toRealPath())) {
                    return true;
                }
            } catch (IOException | RuntimeException missing) {
                // a root that does not exist holds nothing
            }
        }
        return false;
    }

    /** The key if its content can be one; the message never repeats the content. */
    private static Optional<Backend.Secret> checked(String value, String source, List<String> problems) {
        if (!KEY.matcher(value).matches()) {
            problems.add(source + ", whose content is not a key: a key is 1 to " + MAX_KEY_CHARS
                    + " visible ASCII characters, without spaces, line breaks or control characters");
            return Optional.empty();
        }
        return Optional.of(new Backend.Secret(value));
    }
}

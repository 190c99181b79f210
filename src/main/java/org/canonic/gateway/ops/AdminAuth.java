package org.canonic.gateway.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.SecretSource;
import org.canonic.gateway.relay.OpenAiError;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The bearer check in front of every {@code /admin/*} endpoint. The token comes from {@code GATEWAY_ADMIN_TOKEN} or
 * the file named by {@code GATEWAY_ADMIN_TOKEN_FILE}; without one the admin API does not exist (404, so a scanner
 * cannot even tell it is there). A configured token must be at least {@value #MIN_TOKEN_LENGTH} characters.
 *
 * <p>Failures are counted ({@code gateway.admin.auth.failures}) and limited per client address: past
 * {@code gateway.admin-auth.max-failures-per-minute} an address's failures answer 429 with {@code Retry-After}. A
 * request with the right token always passes: behind a tunnel every client shares one address, and a scanner must not
 * be able to lock the operator out. Guessing stays hopeless anyway, given the token's length.
 */
@Startup
@Singleton
public class AdminAuth {

    public static final int MIN_TOKEN_LENGTH = 32;

    private static final Logger LOG = Logger.getLogger(AdminAuth.class);

    /** SHA-256 of the token: compared digest to digest, so neither content nor length leaks through timing. */
    private final byte[] tokenDigest;
    private final FailureLimiter limiter;
    private final Counter failures;

    /** A refused admin request; JAX-RS answers with the OpenAI-shaped response it carries. */
    public static final class Refused extends WebApplicationException {
        Refused(Response response) {
            super(response);
        }
    }

    @Inject
    AdminAuth(GatewayConfig config, MeterRegistry registry) {
        this(checkedToken(config), config.adminAuth().maxFailuresPerMinute(), registry);
    }

    public AdminAuth(Optional<String> token, int maxFailuresPerMinute, MeterRegistry registry) {
        this.tokenDigest = token.map(AdminAuth::sha256).orElse(null);
        this.limiter = new FailureLimiter(maxFailuresPerMinute, System::currentTimeMillis);
        this.failures = Counter.builder("gateway.admin.auth.failures")
                .description("Admin requests refused for a missing or wrong bearer token").register(registry);
    }

    /**
     * Start-up problems of the admin token settings (for the boot checks): both sources set, an unreadable file, a
     * token shorter than {@value #MIN_TOKEN_LENGTH} characters. Never contains the token.
     */
    public static List<String> problems(GatewayConfig config) {
        List<String> problems = new ArrayList<>();
        token(config, problems);
        return problems;
    }

    private static Optional<String> token(GatewayConfig config, List<String> problems) {
        if (config.adminAuth().maxFailuresPerMinute() < 1) {
            problems.add("gateway.admin-auth.max-failures-per-minute must be at least 1");
        }
        Optional<String> token = SecretSource.resolve(config.adminToken(), config.adminTokenFile(),
                "GATEWAY_ADMIN_TOKEN", "GATEWAY_ADMIN_TOKEN_FILE", problems);
        if (token.isPresent() && token.get().length() < MIN_TOKEN_LENGTH) {
            problems.add("the admin token (GATEWAY_ADMIN_TOKEN or GATEWAY_ADMIN_TOKEN_FILE) has "
                    + token.get().length() + " characters; it must have at least " + MIN_TOKEN_LENGTH
                    + " (e.g. openssl rand -base64 32)");
            return Optional.empty();
        }
        return token;
    }

    private static Optional<String> checkedToken(GatewayConfig config) {
        List<String> problems = new ArrayList<>();
        Optional<String> token = token(config, problems);
        if (!problems.isEmpty()) {
            // Fail closed here too, whoever else runs the boot checks: a weak admin token must never serve.
            throw new InvalidConfigurationException(problems);
        }
        return token;
    }

    /** Whether an admin token is configured (the admin API exists). */
    public boolean enabled() {
        return tokenDigest != null;
    }

    /** {@link #require(String, String)} with the client address of a Vert.x request. */
    public void require(String authorization, HttpServerRequest request) {
        SocketAddress remote = request == null ? null : request.remoteAddress();
        require(authorization, remote == null ? null : remote.hostAddress());
    }

    /**
     * Lets the request through, or throws {@link Refused}: 404 without a configured token, 401 for a missing or
     * wrong one ({@code Bearer} matched case-insensitively), 429 once the address has failed too often.
     */
    public void require(String authorization, String clientAddress) {
        Optional<Denial> denial = check(authorization, clientAddress);
        if (denial.isPresent()) {
            throw new Refused(error(denial.get().error(), denial.get().retryAfterSeconds()));
        }
    }

    /**
     * Why an admin request must be refused, judged from its headers alone, or empty when it may proceed. The one
     * check of the admin API: {@link AdminGate} applies it to every {@code /admin} path before any body is read.
     */
    public Optional<Denial> check(String authorization, String clientAddress) {
        if (tokenDigest == null) {
            return Optional.of(new Denial(OpenAiError.invalidRequest(404, "Not found.", null, "not_found"), 0));
        }
        String presented = bearer(authorization);
        if (!presented.isEmpty() && MessageDigest.isEqual(sha256(presented), tokenDigest)) {
            return Optional.empty();
        }
        failures.increment();
        long retryAfter = limiter.fail(clientAddress);
        if (retryAfter > 0) {
            LOG.debugf("Admin authentication failures over the limit from %s", clientAddress);
            return Optional.of(new Denial(new OpenAiError(429, "Too many failed admin authentications from this "
                    + "address; retry after " + retryAfter + " s.", "rate_limit_error", null,
                    "too_many_auth_failures"), retryAfter));
        }
        LOG.debugf("Admin authentication failed from %s", clientAddress);
        return Optional.of(new Denial(new OpenAiError(401, "A valid admin bearer token is required.",
                "authentication_error", null, "invalid_admin_token"), 0));
    }

    /**
     * A refused admin request: the OpenAI-shaped error, and the {@code Retry-After} seconds (0: none). A 401 also
     * carries {@code WWW-Authenticate: Bearer}.
     */
    public record Denial(OpenAiError error, long retryAfterSeconds) {
    }

    /** The credentials of a {@code Bearer} header (scheme in any case), or "" for anything else. */
    static String bearer(String authorization) {
        if (authorization == null) {
            return "";
        }
        String value = authorization.strip();
        int space = value.indexOf(' ');
        if (space < 0 || !value.substring(0, space).toLowerCase(Locale.ROOT).equals("bearer")) {
            return "";
        }
        return value.substring(space + 1).strip();
    }

    private static Response error(OpenAiError error, long retryAfter) {
        Response.ResponseBuilder response = Response.status(error.status()).type(MediaType.APPLICATION_JSON)
                .entity(error.toJson());
        if (error.status() == 401) {
            response.header("WWW-Authenticate", "Bearer");
        }
        if (retryAfter > 0) {
            response.header("Retry-After", Long.toString(retryAfter));
        }
        return response.build();
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }
}

package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The HTTP side of one provider API: bearer auth, a timeout per call, and bounded retries of 429 and 502/503/504
 * (honouring {@code Retry-After} in seconds or as an HTTP date, capped, else 0.15 s growing x1.5 like the Vast CLI);
 * a 500 on a read is retried once. A create is never retried ({@link #sendOnce}): an error after it may mean the
 * machine exists, and a second attempt would rent a second one under the same label. Calls block, so they run on
 * worker threads (JAX-RS) or in {@code executeBlocking} (timers), never on an event loop. The key is read per call
 * and never leaves the Authorization header: no message or log line here contains it.
 */
public final class ProviderHttp {

    private static final Logger LOG = Logger.getLogger(ProviderHttp.class);

    /** A provider answer that was not retried away: the status and the body (JSON when it parses, else null). */
    public record Reply(int status, JsonNode json, String raw) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    private final String provider;
    private final String baseUrl;
    private final ApiKeys keys;
    private final ObjectMapper mapper;
    private final Duration timeout;
    private final int maxAttempts;
    private final Duration maxRetryAfter;
    private final HttpClient client;

    public ProviderHttp(String provider, String baseUrl, ApiKeys keys, ObjectMapper mapper, Duration timeout,
                        int maxAttempts, Duration maxRetryAfter) {
        this.provider = provider;
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.keys = keys;
        this.mapper = mapper;
        this.timeout = timeout;
        this.maxAttempts = Math.max(1, maxAttempts);
        this.maxRetryAfter = maxRetryAfter;
        this.client = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
    }

    public String baseUrl() {
        return baseUrl;
    }

    public ApiKeys keys() {
        return keys;
    }

    /**
     * Sends one call. Transport failures, timeouts and retries exhausted throw; any other status is returned for
     * the caller to read (providers put meaning in 404/409/410 bodies).
     *
     * @param what what the gateway was doing, for the error message ("listing instances")
     */
    public Reply send(String method, String pathAndQuery, JsonNode body, String what) {
        return send(method, pathAndQuery, body, what, true);
    }

    /**
     * Sends a call that is not idempotent (a create) exactly once: every answer, 429 and 5xx included, is returned,
     * and a timeout or a broken connection throws as ambiguous. Only the caller can tell what happened, by looking
     * the instance up; a blind retry could create it twice.
     */
    public Reply sendOnce(String method, String pathAndQuery, JsonNode body, String what) {
        return send(method, pathAndQuery, body, what, false);
    }

    private Reply send(String method, String pathAndQuery, JsonNode body, String what, boolean retry) {
        String key = keys.resolve().orElseThrow(() -> new ComputeException(503, "provider_not_configured",
                provider + " has no API key (looked in " + keys.describe() + "), so the gateway cannot be "
                        + what + "."));
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery)).timeout(timeout)
                .header("Authorization", "Bearer " + key).header("Accept", "application/json")
                .header("Content-Type", "application/json").method(method, publisher).build();
        long backoffMs = 150;
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> response;
            try {
                response = client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (HttpTimeoutException e) {
                // The provider may have acted: a create that timed out must be looked up, not simply retried.
                throw new ComputeException(504, "provider_timeout", provider + " did not answer within "
                        + timeout.toMillis() / 1000.0 + " s while " + what + "; whether it acted is unknown.", null,
                        true);
            } catch (ConnectException e) {
                throw new ComputeException(503, "provider_unreachable", provider + " could not be reached ("
                        + baseUrl + ") while " + what + ".");
            } catch (IOException e) {
                throw new ComputeException(502, "provider_unreachable", provider + " connection failed while "
                        + what + " (" + e.getClass().getSimpleName() + ").", null, !"GET".equals(method));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ComputeException(503, "interrupted", "Interrupted while " + what + ".");
            }
            int status = response.statusCode();
            // A read that hit a transient 500 is worth one more try; a 500 that repeats is an answer.
            boolean retryable = retry && (status == 429 || status == 502 || status == 503 || status == 504
                    || status == 500 && "GET".equals(method) && attempt == 1);
            if (!retryable) {
                return new Reply(status, parse(response.body()), response.body());
            }
            if (attempt >= maxAttempts) {
                if (status == 429) {
                    throw new ComputeException(503, "provider_rate_limited", provider + " kept answering 429 (rate"
                            + " limited) while " + what + "; gave up after " + attempt + " attempts. Retry later.");
                }
                throw new ComputeException(502, "provider_error", provider + " answered " + status + " while "
                        + what + " (" + attempt + " attempts).", null, !"GET".equals(method));
            }
            long waitMs = retryAfterMs(response).orElse(backoffMs);
            waitMs = Math.min(waitMs, maxRetryAfter.toMillis());
            LOG.infof("%s answered %d while %s; retrying in %d ms (attempt %d of %d)", provider, status, what,
                    waitMs, attempt + 1, maxAttempts);
            sleep(waitMs);
            backoffMs = (long) (backoffMs * 1.5);
        }
    }

    /** A provider error for a reply the caller did not expect, naming the provider's own message when it has one. */
    public ComputeException unexpected(Reply reply, String what) {
        String detail = message(reply);
        int status = reply.status() == 402 ? 402 : 502;
        String code = reply.status() == 402 ? "provider_insufficient_balance" : "provider_error";
        if (isAuthError(reply)) {
            code = "provider_auth_failed";
            detail = "the API key was refused";
        }
        // The provider may repeat the account key it was sent (an echoed request): never repeat it further.
        detail = Redaction.scrub(detail, keys.resolve().map(java.util.List::of).orElse(java.util.List.of()));
        return new ComputeException(status, code, provider + " answered " + reply.status() + " while " + what
                + (detail == null ? "" : ": " + detail) + ".");
    }

    /** A Vast.ai wrong key can come back as 404 with an {@code auth_error} body, not 401. */
    public static boolean isAuthError(Reply reply) {
        return reply.status() == 401 || "auth_error".equals(text(reply.json(), "error"));
    }

    /** The provider's human message: Vast {@code msg}/{@code message}/{@code error}, RFC 9457 {@code detail}. */
    public static String message(Reply reply) {
        JsonNode json = reply.json();
        for (String field : new String[]{"msg", "message", "detail", "title", "error"}) {
            String value = text(json, field);
            if (value != null && !value.isBlank()) {
                String scrubbed = Redaction.scrub(value);
                return scrubbed.length() > 300 ? scrubbed.substring(0, 300) + "..." : scrubbed;
            }
        }
        return null;
    }

    public static String text(JsonNode json, String field) {
        if (json == null || !json.isObject()) {
            return null;
        }
        JsonNode value = json.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            return mapper.readTree(body);
        } catch (IOException e) {
            return null;
        }
    }

    private static java.util.Optional<Long> retryAfterMs(HttpResponse<String> response) {
        return response.headers().firstValue("Retry-After").flatMap(value -> retryAfterMs(value,
                System.currentTimeMillis()));
    }

    /** {@code Retry-After} is delay-seconds or an HTTP date (RFC 9110); a date in the past means now. */
    static java.util.Optional<Long> retryAfterMs(String value, long nowMs) {
        String v = value.strip();
        try {
            return java.util.Optional.of(Math.max(0, (long) (Double.parseDouble(v) * 1000)));
        } catch (NumberFormatException e) {
            // not seconds: perhaps a date
        }
        try {
            long at = java.time.ZonedDateTime.parse(v, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME)
                    .toInstant().toEpochMilli();
            return java.util.Optional.of(Math.max(0, at - nowMs));
        } catch (java.time.format.DateTimeParseException e) {
            return java.util.Optional.empty();
        }
    }

    public static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ComputeException(503, "interrupted", "Interrupted while waiting for the provider.");
        }
    }
}

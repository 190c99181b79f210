package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.config.InvalidConfigurationException;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What every {@link MaintenanceLock} checks and shows the same way, whichever store keeps it. */
final class LockRules {

    static final String TOKEN_PREFIX = "gwlock_";
    static final int MAX_HOLDER = 128;
    static final int MAX_REASON = 500;

    private static final SecureRandom RANDOM = new SecureRandom();

    private LockRules() {
    }

    /** @throws InvalidConfigurationException if the TTL bounds are wrong */
    static void checkTtls(Duration defaultTtl, Duration maxTtl) {
        List<String> problems = new ArrayList<>();
        if (maxTtl.toSeconds() < 1) {
            problems.add("gateway.lock.max-ttl must be at least 1s, got " + maxTtl);
        }
        if (defaultTtl.toSeconds() < 1 || defaultTtl.compareTo(maxTtl) > 0) {
            problems.add("gateway.lock.default-ttl must lie between 1s and gateway.lock.max-ttl (" + maxTtl + "), got "
                    + defaultTtl);
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
    }

    /** A new secret token: 256 random bits. */
    static String newToken() {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    static void requireToken(String token) {
        if (token == null || token.isBlank()) {
            throw LockRequestException.invalid("The " + MaintenanceLock.TOKEN_HEADER + " header must carry the lock's "
                    + "token (use ?force=true with the admin token to end someone else's lock).",
                    MaintenanceLock.TOKEN_HEADER, "missing_lock_token");
        }
    }

    static LockRequestException notHeld() {
        return new LockRequestException(409, "No maintenance lock is held.", null, "lock_not_held");
    }

    /** Seconds to the expiry, rounded up, at least 1 while held: usable as Retry-After. */
    static long secondsLeft(Instant expiresAt) {
        long millis = expiresAt.toEpochMilli() - System.currentTimeMillis();
        return Math.max(1, (millis + 999) / 1000);
    }

    /** A TTL in whole seconds between 1 and the maximum; null means {@code fallback}. */
    static Duration ttl(Long seconds, Duration fallback, Duration maxTtl) {
        if (seconds == null) {
            return fallback;
        }
        if (seconds < 1 || seconds > maxTtl.toSeconds()) {
            throw LockRequestException.invalid("ttl_seconds must be a whole number of seconds between 1 and "
                    + maxTtl.toSeconds() + " (gateway.lock.max-ttl), got " + seconds + ".", "ttl_seconds",
                    "invalid_ttl");
        }
        return Duration.ofSeconds(seconds);
    }

    /** A bounded, printable, stripped text; null when optional and absent. */
    static String text(String value, String field, int max, boolean required) {
        String stripped = value == null ? null : value.strip();
        if (stripped == null || stripped.isEmpty()) {
            if (required) {
                throw LockRequestException.invalid("'" + field + "' is required: say who takes the lock (a person or "
                        + "a tool, e.g. \"provisioner\").", field, "missing_" + field);
            }
            return null;
        }
        if (stripped.length() > max || stripped.chars().anyMatch(Character::isISOControl)) {
            throw LockRequestException.invalid("'" + field + "' must be at most " + max
                    + " characters without control characters.", field, "invalid_" + field);
        }
        return stripped;
    }

    static ObjectNode toJson(ObjectMapper mapper, MaintenanceLock.Status status) {
        ObjectNode json = mapper.createObjectNode();
        json.put("held", status.held());
        json.put("holder", status.holder());
        json.put("reason", status.reason());
        json.put("fencing", status.fencing());
        json.put("expires_at", status.expiresAt() == null ? null : status.expiresAt().toString());
        if (status.held()) {
            json.put("seconds_left", status.secondsLeft());
        } else {
            json.putNull("seconds_left");
        }
        return json;
    }

    static Map<String, Object> eventData(String holder, String reason, long fencing, Instant expiresAt) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("holder", holder);
        data.put("reason", reason);
        data.put("fencing", fencing);
        data.put("expires_at", expiresAt.toString());
        return data;
    }
}

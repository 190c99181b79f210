package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * {@code lock.json} in the state directory: the last fencing number issued and the lock currently held, if any.
 * Replaced atomically on every change. It holds the SHA-256 of the token, never the token: enough to recognise the
 * holder after a restart, useless to anyone who reads the file.
 *
 * <pre>{"fencing":7,"lock":{"holder","reason","fencing","acquired_at","expires_at","ttl_seconds","token_sha256"}}</pre>
 */
final class LockFile {

    /** The persisted lock; {@code tokenSha256} is the digest of the holder's token. */
    record Held(String holder, String reason, long fencing, Instant acquiredAt, Instant expiresAt, long ttlSeconds,
                byte[] tokenSha256) {

        Held renewed(Instant newExpiry, long newTtlSeconds) {
            return new Held(holder, reason, fencing, acquiredAt, newExpiry, newTtlSeconds, tokenSha256);
        }
    }

    record Content(long fencing, Held held) {
    }

    private static final Logger LOG = Logger.getLogger(LockFile.class);

    private final StateDirectory state;
    private final ObjectMapper mapper;

    LockFile(StateDirectory state, ObjectMapper mapper) {
        this.state = state;
        this.mapper = mapper;
    }

    /**
     * Reads the file; a missing file is a fresh start (fencing 0, no lock). What is loaded obeys the bounds of API
     * input: a lease beyond {@code maxTtl} from now is cut to it (with a WARN), texts are those a caller could
     * have given, and the counter is at most {@link MaintenanceLock#MAX_FENCING}.
     *
     * @throws InvalidConfigurationException if the file exists but cannot be read or trusted: starting over would
     *                                       reuse fencing numbers, so the gateway refuses to start instead
     */
    Content load(java.time.Duration maxTtl) {
        Optional<byte[]> bytes;
        try {
            bytes = state.read(MaintenanceLock.FILE);
        } catch (IOException e) {
            throw unreadable(e.toString());
        }
        if (bytes.isEmpty()) {
            return new Content(0, null);
        }
        try {
            JsonNode root = mapper.readTree(bytes.get());
            if (root == null || !root.isObject()) {
                throw unreadable("not a JSON object");
            }
            long fencing = counter(root.path("fencing"), "\"fencing\"");
            JsonNode lock = root.path("lock");
            if (lock.isMissingNode() || lock.isNull()) {
                return new Content(fencing, null);
            }
            if (!lock.isObject()) {
                throw unreadable("\"lock\" is not an object");
            }
            String holder = bounded(lock.path("holder"), "holder", LockRules.MAX_HOLDER, true);
            String reason = bounded(lock.path("reason"), "reason", LockRules.MAX_REASON, false);
            long lockFencing = counter(lock.path("fencing"), "lock fencing");
            long ttlSeconds = lock.path("ttl_seconds").asLong();
            Held held = new Held(holder, reason, lockFencing, Instant.parse(lock.path("acquired_at").asText()),
                    Instant.parse(lock.path("expires_at").asText()), ttlSeconds,
                    HexFormat.of().parseHex(lock.path("token_sha256").asText()));
            if (held.tokenSha256().length != 32 || lockFencing < 1 || lockFencing > fencing) {
                throw unreadable("an inconsistent \"lock\" entry");
            }
            return new Content(fencing, capped(held, maxTtl));
        } catch (InvalidConfigurationException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw unreadable(e.getClass().getSimpleName());
        }
    }

    /** The lease within the maximum an acquisition or renewal could ask for now. */
    private Held capped(Held held, java.time.Duration maxTtl) {
        Instant latest = Instant.now().plus(maxTtl);
        long ttl = Math.min(Math.max(held.ttlSeconds(), 1), maxTtl.toSeconds());
        if (!held.expiresAt().isAfter(latest) && ttl == held.ttlSeconds()) {
            return held;
        }
        Instant expiry = held.expiresAt().isAfter(latest) ? latest : held.expiresAt();
        LOG.warnf("%s held a lease (until %s, %d s) beyond gateway.lock.max-ttl (%s); cut to %s",
                state.resolve(MaintenanceLock.FILE), held.expiresAt(), held.ttlSeconds(), maxTtl, expiry);
        return held.renewed(expiry, ttl);
    }

    private long counter(JsonNode value, String what) {
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0
                || value.asLong() > MaintenanceLock.MAX_FENCING) {
            throw unreadable("no valid " + what + " number (0 to " + MaintenanceLock.MAX_FENCING + ")");
        }
        return value.asLong();
    }

    /** A text under the rules of API input (LockRules.text); a violation makes the file untrusted. */
    private String bounded(JsonNode value, String field, int max, boolean required) {
        if (!required && (value.isMissingNode() || value.isNull())) {
            return null;
        }
        if (!value.isTextual()) {
            throw unreadable("\"" + field + "\" is not a text");
        }
        try {
            return LockRules.text(value.asText(), field, max, required);
        } catch (LockRequestException e) {
            throw unreadable("\"" + field + "\" breaks the rules of API input: " + e.getMessage());
        }
    }

    /**
     * Replaces the file.
     *
     * @throws CoordinationUnavailable if it could not be written
     */
    void save(long fencing, Held held) {
        ObjectNode root = mapper.createObjectNode();
        root.put("fencing", fencing);
        if (held == null) {
            root.putNull("lock");
        } else {
            ObjectNode lock = root.putObject("lock");
            lock.put("holder", held.holder());
            lock.put("reason", held.reason());
            lock.put("fencing", held.fencing());
            lock.put("acquired_at", held.acquiredAt().toString());
            lock.put("expires_at", held.expiresAt().toString());
            lock.put("ttl_seconds", held.ttlSeconds());
            lock.put("token_sha256", HexFormat.of().formatHex(held.tokenSha256()));
        }
        state.writeDocument(MaintenanceLock.FILE, mapper.writer(), root, "The lock state");
    }

    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    private InvalidConfigurationException unreadable(String why) {
        return new InvalidConfigurationException(List.of(state.resolve(MaintenanceLock.FILE) + " cannot be trusted ("
                + why + "); " + state.restoreHint(MaintenanceLock.FILE) + ", or fix it by hand. Deleting it would "
                + "restart fencing numbers at 1, which is only safe if nothing downstream remembers the old ones."));
    }
}

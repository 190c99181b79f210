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
     * Reads the file; a missing file is a fresh start (fencing 0, no lock).
     *
     * @throws InvalidConfigurationException if the file exists but cannot be read or trusted: starting over would
     *                                       reuse fencing numbers, so the gateway refuses to start instead
     */
    Content load() {
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
            JsonNode fencing = root.path("fencing");
            if (!fencing.canConvertToLong() || !fencing.isIntegralNumber() || fencing.asLong() < 0) {
                throw unreadable("no valid \"fencing\" number");
            }
            JsonNode lock = root.path("lock");
            if (lock.isMissingNode() || lock.isNull()) {
                return new Content(fencing.asLong(), null);
            }
            Held held = new Held(lock.path("holder").asText(), lock.hasNonNull("reason")
                    ? lock.get("reason").asText() : null, lock.path("fencing").asLong(),
                    Instant.parse(lock.path("acquired_at").asText()), Instant.parse(lock.path("expires_at").asText()),
                    lock.path("ttl_seconds").asLong(), HexFormat.of().parseHex(lock.path("token_sha256").asText()));
            if (held.tokenSha256().length != 32 || held.holder().isEmpty() || held.fencing() > fencing.asLong()) {
                throw unreadable("an inconsistent \"lock\" entry");
            }
            return new Content(fencing.asLong(), held);
        } catch (InvalidConfigurationException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw unreadable(e.getClass().getSimpleName());
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
        try {
            state.writeAtomically(MaintenanceLock.FILE, mapper.writeValueAsBytes(root));
        } catch (IOException | RuntimeException e) {
            LOG.errorf("Cannot write %s: %s", state.resolve(MaintenanceLock.FILE), e.toString());
            throw new CoordinationUnavailable(CoordinationUnavailable.STATE,
                    "The lock state cannot be written to the state directory, so the change was not made; see the "
                            + "gateway log.", e);
        }
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
                + why + "); restore it from a backup or fix it by hand. Deleting it would restart fencing numbers "
                + "at 1, which is only safe if nothing downstream remembers the old ones."));
    }
}

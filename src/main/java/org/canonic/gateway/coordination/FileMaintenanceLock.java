package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.jboss.logging.Logger;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The maintenance lock: one holder at a time serialises admin mutations (a provisioner replacing backends, an
 * operator draining one). Modelled on Consul/Nomad lock sessions and Kubernetes leases:
 * <ul>
 *   <li>acquiring returns a secret token (256 random bits) that every guarded mutation must present, an expiry, and
 *       a <em>fencing number</em> that grows with every acquisition and is persisted ({@code lock.json}), so it keeps
 *       growing across restarts and a stale holder can be told apart from the current one downstream;</li>
 *   <li>the lease is bounded ({@code gateway.lock.max-ttl}) and ends by itself: a Vert.x timer expires it and emits
 *       {@code lock.expired}, and every access checks the expiry too, so a late timer changes nothing;</li>
 *   <li>{@link #guarded} checks the token and runs the mutation under this object's monitor, so no acquisition or
 *       release can slip between the check and the change.</li>
 * </ul>
 * Only the SHA-256 of the token is kept (in memory and in {@code lock.json}); the token itself leaves this class
 * once, in the {@link Grant}, and appears in no view, log, audit record, event or metric. A held lock survives a
 * restart. Every successful mutation is persisted, then audited; if either write fails the change is undone and
 * {@link CoordinationUnavailable} is thrown.
 */
@Startup
@Singleton
public class MaintenanceLock {

    public static final String FILE = "lock.json";
    public static final String TOKEN_HEADER = "X-Gateway-Lock-Token";
    public static final String TARGET = "lock";
    static final String TOKEN_PREFIX = "gwlock_";
    static final int MAX_HOLDER = 128;
    static final int MAX_REASON = 500;

    private static final Logger LOG = Logger.getLogger(MaintenanceLock.class);

    private final LockFile file;
    private final AuditLog audit;
    private final Webhooks webhooks;
    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final Duration defaultTtl;
    private final Duration maxTtl;
    private final SecureRandom random = new SecureRandom();

    private long lastFencing;
    private LockFile.Held held;
    private long timer = -1;

    /** A successful acquisition. The token is the holder's secret: {@link #toString()} leaves it out. */
    public record Grant(String holder, String reason, String token, long fencing, Instant expiresAt) {
        @Override
        public String toString() {
            return "Grant[holder=" + holder + ", fencing=" + fencing + ", expiresAt=" + expiresAt + "]";
        }
    }

    /**
     * What anyone may see of the lock. When nothing is held, only {@code fencing} (the last number issued) is set.
     */
    public record Status(boolean held, String holder, String reason, long fencing, Instant expiresAt,
                         long secondsLeft) {
    }

    /** What a guarded mutation runs under: the lock's fencing number, or null when no lock is held. */
    public record Guard(Long fencing) {
        public boolean locked() {
            return fencing != null;
        }
    }

    @Inject
    MaintenanceLock(StateDirectory state, AuditLog audit, Webhooks webhooks, Vertx vertx, ObjectMapper mapper,
                    GatewayConfig config) {
        this(state, audit, webhooks, vertx, mapper, config.lock().defaultTtl(), config.lock().maxTtl());
    }

    /**
     * Reads {@code lock.json}: the fencing counter and a lock held before a restart.
     *
     * @throws InvalidConfigurationException if the TTL bounds are wrong or {@code lock.json} cannot be trusted
     */
    public MaintenanceLock(StateDirectory state, AuditLog audit, Webhooks webhooks, Vertx vertx, ObjectMapper mapper,
                           Duration defaultTtl, Duration maxTtl) {
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
        this.file = new LockFile(state, mapper);
        this.audit = audit;
        this.webhooks = webhooks;
        this.vertx = vertx;
        this.mapper = mapper;
        this.defaultTtl = defaultTtl;
        this.maxTtl = maxTtl;
        LockFile.Content content = file.load();
        synchronized (this) {
            this.lastFencing = content.fencing();
            this.held = content.held();
            if (held != null) {
                LOG.infof("Maintenance lock held by %s (fencing %d) until %s, restored from %s", held.holder(),
                        held.fencing(), held.expiresAt(), FILE);
                if (!expireIfDue()) {
                    schedule();
                }
            }
        }
    }

    /** The lock as anyone may see it (never the token). */
    public synchronized Status status() {
        expireIfDue();
        return statusOf(held);
    }

    /**
     * Acquires the lock.
     *
     * @param ttlSeconds the lease in seconds, or null for {@code gateway.lock.default-ttl}
     * @throws LockRequestException (400) for a missing or unusable holder, reason or TTL
     * @throws Locked               when someone holds the lock (acquiring is not re-entrant: renew instead)
     */
    public synchronized Grant acquire(String holder, String reason, Long ttlSeconds, String caller) {
        String cleanHolder = text(holder, "holder", MAX_HOLDER, true);
        String cleanReason = text(reason, "reason", MAX_REASON, false);
        Duration ttl = ttl(ttlSeconds, defaultTtl);
        expireIfDue();
        if (held != null) {
            throw locked();
        }
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        String token = TOKEN_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Instant now = Instant.now();
        long fencing = lastFencing + 1;
        LockFile.Held next = new LockFile.Held(cleanHolder, cleanReason, fencing, now, now.plus(ttl),
                ttl.toSeconds(), LockFile.sha256(token));
        // A fencing number is used up even if the audit fails below: numbers may skip, never repeat.
        commit(fencing, next, "lock.acquire", caller, null);
        LOG.infof("Maintenance lock acquired by %s (fencing %d) until %s", cleanHolder, fencing, next.expiresAt());
        webhooks.publish(EventTypes.LOCK_ACQUIRED, eventData(next));
        return new Grant(cleanHolder, cleanReason, token, fencing, next.expiresAt());
    }

    /**
     * Releases the lock with its token.
     *
     * @return the lock as it was just before
     * @throws LockRequestException 400 without a token, 409 when no lock is held
     * @throws Locked               when the token is not the lock's
     */
    public synchronized Status release(String token, String caller) {
        requireToken(token);
        LockFile.Held current = heldOr409();
        checkToken(token, current);
        commit(lastFencing, null, "lock.release", caller, current.fencing());
        LOG.infof("Maintenance lock released by its holder %s (fencing %d)", current.holder(), current.fencing());
        webhooks.publish(EventTypes.LOCK_RELEASED, eventData(current));
        return statusOf(current);
    }

    /**
     * Ends the lock without its token: the human override for a holder that died or forgot. Audited as
     * {@code lock.force_release}, announced as {@code lock.forced}.
     *
     * @throws LockRequestException 409 when no lock is held
     */
    public synchronized Status forceRelease(String caller) {
        LockFile.Held current = heldOr409();
        commit(lastFencing, null, "lock.force_release", caller, null);
        LOG.warnf("Maintenance lock of %s (fencing %d) FORCE-released by %s", current.holder(), current.fencing(),
                caller);
        Map<String, Object> data = eventData(current);
        data.put("forced_by", caller);
        webhooks.publish(EventTypes.LOCK_FORCED, data);
        return statusOf(current);
    }

    /**
     * Extends the lease from now by {@code ttlSeconds} (or the lease it was acquired with).
     *
     * @return the renewed lock
     */
    public synchronized Status renew(String token, Long ttlSeconds, String caller) {
        requireToken(token);
        LockFile.Held current = heldOr409();
        checkToken(token, current);
        Duration ttl = ttl(ttlSeconds, Duration.ofSeconds(current.ttlSeconds()));
        LockFile.Held renewed = current.renewed(Instant.now().plus(ttl), ttl.toSeconds());
        commit(lastFencing, renewed, "lock.renew", caller, current.fencing());
        LOG.infof("Maintenance lock of %s (fencing %d) renewed until %s", current.holder(), current.fencing(),
                renewed.expiresAt());
        return statusOf(renewed);
    }

    /**
     * Runs {@code mutation} if the caller may change the gateway now: when no lock is held (the guard's fencing is
     * null), or when {@code presentedToken} is the lock's token. Check and mutation run under one monitor, so the
     * lock cannot change hands in between; keep mutations short, acquisitions wait for them.
     *
     * @throws Locked when a lock is held and the token is missing or not its own
     */
    public synchronized <T> T guarded(String presentedToken, Function<Guard, T> mutation) {
        expireIfDue();
        if (held == null) {
            return mutation.apply(new Guard(null));
        }
        checkToken(presentedToken, held);
        return mutation.apply(new Guard(held.fencing()));
    }

    /** {@link #guarded(String, Function)} for mutations that do not need the fencing number. */
    public <T> T guarded(String presentedToken, Supplier<T> mutation) {
        return guarded(presentedToken, guard -> mutation.get());
    }

    /** The lock's status as JSON: {@code held, holder, reason, fencing, expires_at, seconds_left}. */
    public ObjectNode toJson(Status status) {
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

    /** The longest lease a holder may ask for. */
    public Duration maxTtl() {
        return maxTtl;
    }

    /**
     * Persists the new state, then audits it; undoes the persisted state if the audit fails. Only then does the
     * in-memory state change, so a failure leaves everything as it was (save a skipped fencing number).
     */
    private void commit(long fencing, LockFile.Held next, String action, String caller, Long lockUsed) {
        LockFile.Held previous = held;
        file.save(fencing, next);
        try {
            audit.record(caller, action, TARGET, previous == null ? null : toJson(statusOf(previous)),
                    next == null ? null : toJson(statusOf(next)), AuditLog.OK, lockUsed);
        } catch (CoordinationUnavailable e) {
            try {
                file.save(fencing, previous);
            } catch (CoordinationUnavailable undo) {
                LOG.errorf("Could not undo %s in %s after the audit failed: %s", action, FILE, undo.getMessage());
            }
            lastFencing = fencing;
            throw e;
        }
        lastFencing = fencing;
        held = next;
        schedule();
    }

    /** Expires the lock if its time has come. True when it did. */
    private boolean expireIfDue() {
        if (held == null || Instant.now().isBefore(held.expiresAt())) {
            return false;
        }
        LockFile.Held expired = held;
        held = null;
        cancelTimer();
        try {
            file.save(lastFencing, null);
        } catch (CoordinationUnavailable e) {
            // Harmless: the file records the expiry time, so a restart would find the lock expired as well.
            LOG.warnf("Could not record the expiry of the maintenance lock in %s: %s", FILE, e.getMessage());
        }
        LOG.infof("Maintenance lock of %s (fencing %d) expired at %s", expired.holder(), expired.fencing(),
                expired.expiresAt());
        webhooks.publish(EventTypes.LOCK_EXPIRED, eventData(expired));
        return true;
    }

    /** Arms the expiry timer for the current lock (or disarms it). */
    private void schedule() {
        cancelTimer();
        if (held == null) {
            return;
        }
        long delay = Math.max(1, held.expiresAt().toEpochMilli() - System.currentTimeMillis() + 5);
        // The expiry writes lock.json (fsync): run it on a worker, never on the event loop that fired the timer.
        timer = vertx.setTimer(delay, id -> vertx.executeBlocking(() -> {
            synchronized (this) {
                expireIfDue();
            }
            return null;
        }, false));
    }

    private void cancelTimer() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private Status statusOf(LockFile.Held lock) {
        if (lock == null) {
            return new Status(false, null, null, lastFencing, null, 0);
        }
        return new Status(true, lock.holder(), lock.reason(), lock.fencing(), lock.expiresAt(),
                secondsLeft(lock.expiresAt()));
    }

    private Locked locked() {
        return new Locked(held.holder(), held.expiresAt(), secondsLeft(held.expiresAt()));
    }

    private LockFile.Held heldOr409() {
        expireIfDue();
        if (held == null) {
            throw new LockRequestException(409, "No maintenance lock is held.", null, "lock_not_held");
        }
        return held;
    }

    private static void requireToken(String token) {
        if (token == null || token.isBlank()) {
            throw LockRequestException.invalid("The " + TOKEN_HEADER + " header must carry the lock's token (use "
                    + "?force=true with the admin token to end someone else's lock).", TOKEN_HEADER,
                    "missing_lock_token");
        }
    }

    /** Compares digests in constant time, so response timing reveals nothing about the token. */
    private void checkToken(String presented, LockFile.Held lock) {
        byte[] digest = LockFile.sha256(presented == null ? "" : presented.strip());
        if (presented == null || !MessageDigest.isEqual(digest, lock.tokenSha256())) {
            throw locked();
        }
    }

    /** Seconds to the expiry, rounded up, at least 1 while held: usable as Retry-After. */
    private static long secondsLeft(Instant expiresAt) {
        long millis = expiresAt.toEpochMilli() - System.currentTimeMillis();
        return Math.max(1, (millis + 999) / 1000);
    }

    /** A TTL in whole seconds between 1 and the maximum; null means {@code fallback}. */
    private Duration ttl(Long seconds, Duration fallback) {
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
    private static String text(String value, String field, int max, boolean required) {
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

    private static Map<String, Object> eventData(LockFile.Held lock) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("holder", lock.holder());
        data.put("reason", lock.reason());
        data.put("fencing", lock.fencing());
        data.put("expires_at", lock.expiresAt().toString());
        return data;
    }

    @PreDestroy
    synchronized void stop() {
        cancelTimer();
    }
}

package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.jboss.logging.Logger;

import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Function;

/**
 * The maintenance lock of one replica (the embedded store): {@code lock.json} in the state directory holds the last
 * fencing number and the lock held, so both survive a restart; a Vert.x timer expires the lease and emits
 * {@code lock.expired}, and every access checks the expiry too, so a late timer changes nothing. One monitor makes
 * {@link #guarded}'s check and mutation one step. Every successful change is persisted, then audited; if either
 * write fails the change is undone and {@link CoordinationUnavailable} is thrown.
 */
public class FileMaintenanceLock implements MaintenanceLock {

    private static final Logger LOG = Logger.getLogger(FileMaintenanceLock.class);

    private final LockFile file;
    private final AuditLog audit;
    private final Webhooks webhooks;
    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final Duration defaultTtl;
    private final Duration maxTtl;

    // Written only under this object's monitor; volatile so that status() reads them without it: a guarded change
    // (a forced drain, a slow provider call) holds the monitor for seconds, and /health and GET /admin/lock must
    // not wait for it.
    private volatile long lastFencing;
    private volatile LockFile.Held held;
    private long timer = -1;

    /**
     * Reads {@code lock.json}: the fencing counter and a lock held before a restart.
     *
     * @throws InvalidConfigurationException if the TTL bounds are wrong or {@code lock.json} cannot be trusted
     */
    public FileMaintenanceLock(StateDirectory state, AuditLog audit, Webhooks webhooks, Vertx vertx,
                               ObjectMapper mapper, Duration defaultTtl, Duration maxTtl) {
        LockRules.checkTtls(defaultTtl, maxTtl);
        this.file = new LockFile(state, mapper);
        this.audit = audit;
        this.webhooks = webhooks;
        this.vertx = vertx;
        this.mapper = mapper;
        this.defaultTtl = defaultTtl;
        this.maxTtl = maxTtl;
        LockFile.Content content = file.load(maxTtl);
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

    /**
     * The lock as anyone may see it (never the token), without waiting for a change in progress. A lease past its
     * expiry reads as free at once; the expiry timer (or the next change) records it.
     */
    public Status status() {
        LockFile.Held current = held;
        if (current != null && !Instant.now().isBefore(current.expiresAt())) {
            current = null;
        }
        return statusOf(current);
    }

    /**
     * Acquires the lock.
     *
     * @param ttlSeconds the lease in seconds, or null for {@code gateway.lock.default-ttl}
     * @throws LockRequestException (400) for a missing or unusable holder, reason or TTL
     * @throws Locked               when someone holds the lock (acquiring is not re-entrant: renew instead)
     */
    public synchronized Grant acquire(String holder, String reason, Long ttlSeconds, String caller) {
        String cleanHolder = LockRules.text(holder, "holder", LockRules.MAX_HOLDER, true);
        String cleanReason = LockRules.text(reason, "reason", LockRules.MAX_REASON, false);
        Duration ttl = ttl(ttlSeconds, defaultTtl);
        expireIfDue();
        if (held != null) {
            throw locked();
        }
        if (lastFencing >= MAX_FENCING) {
            // Never wrap to a number already used (or a negative one): a fencing number must only ever grow.
            LOG.errorf("The maintenance lock's fencing counter in %s is at its maximum (%d); no lock can be granted",
                    FILE, MAX_FENCING);
            throw new CoordinationUnavailable(CoordinationUnavailable.STATE, "The lock's fencing counter is at its "
                    + "maximum, so no lock can be granted; see the gateway log.", null);
        }
        String token = LockRules.newToken();
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
        LockRules.requireToken(token);
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
        LockRules.requireToken(token);
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

    @Override
    public ObjectNode toJson(Status status) {
        return LockRules.toJson(mapper, status);
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
                LockRules.secondsLeft(lock.expiresAt()));
    }

    private Locked locked() {
        return new Locked(held.holder(), held.expiresAt(), LockRules.secondsLeft(held.expiresAt()));
    }

    private LockFile.Held heldOr409() {
        expireIfDue();
        if (held == null) {
            throw LockRules.notHeld();
        }
        return held;
    }

    /** Compares digests in constant time, so response timing reveals nothing about the token. */
    private void checkToken(String presented, LockFile.Held lock) {
        byte[] digest = LockFile.sha256(presented == null ? "" : presented.strip());
        if (presented == null || !MessageDigest.isEqual(digest, lock.tokenSha256())) {
            throw locked();
        }
    }

    private Duration ttl(Long seconds, Duration fallback) {
        return LockRules.ttl(seconds, fallback, maxTtl);
    }

    private static Map<String, Object> eventData(LockFile.Held lock) {
        return LockRules.eventData(lock.holder(), lock.reason(), lock.fencing(), lock.expiresAt());
    }

    @Override
    public synchronized void close() {
        cancelTimer();
    }
}

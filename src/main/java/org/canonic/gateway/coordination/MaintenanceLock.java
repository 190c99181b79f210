package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The maintenance lock: one holder at a time serialises admin mutations (a provisioner replacing backends, an
 * operator draining one). Modelled on Consul/Nomad lock sessions and Kubernetes leases: acquiring returns a secret
 * token every guarded mutation must present, an expiry, and a <em>fencing number</em> that grows with every
 * acquisition and is persisted. The lease ends by itself; {@link #guarded} checks the token and runs the mutation in
 * one step, so no acquisition or release can slip between the check and the change.
 *
 * <p>Two implementations, one per state store: {@link FileMaintenanceLock} ({@code lock.json}, one replica) and
 * {@link RedisMaintenanceLock} (one holder across every replica). The token leaves the lock once, in the
 * {@link Grant}; only its SHA-256 is kept, and it appears in no view, log, audit record, event or metric.
 */
public interface MaintenanceLock {

    String FILE = "lock.json";
    String TOKEN_HEADER = "X-Gateway-Lock-Token";
    String TARGET = "lock";
    /**
     * The highest fencing number ever issued: 2^53 - 1, the largest integer every JSON reader (JavaScript's doubles
     * included) holds exactly. No gateway gets near it (a thousand acquisitions a second for 285,000 years); a stored
     * counter above it was not written by a gateway, and at it acquisitions are refused instead of wrapping.
     */
    long MAX_FENCING = (1L << 53) - 1;

    /** A successful acquisition. The token is the holder's secret: {@link #toString()} leaves it out. */
    record Grant(String holder, String reason, String token, long fencing, Instant expiresAt) {
        @Override
        public String toString() {
            return "Grant[holder=" + holder + ", fencing=" + fencing + ", expiresAt=" + expiresAt + "]";
        }
    }

    /**
     * What anyone may see of the lock. When nothing is held, only {@code fencing} (the last number issued) is set.
     */
    record Status(boolean held, String holder, String reason, long fencing, Instant expiresAt, long secondsLeft) {
    }

    /** What a guarded mutation runs under: the lock's fencing number, or null when no lock is held. */
    record Guard(Long fencing) {
        public boolean locked() {
            return fencing != null;
        }
    }

    /** The lock as anyone may see it (never the token). */
    Status status();

    /**
     * Acquires the lock.
     *
     * @param ttlSeconds the lease in seconds, or null for {@code gateway.lock.default-ttl}
     * @throws LockRequestException (400) for a missing or unusable holder, reason or TTL
     * @throws Locked               when someone holds the lock (acquiring is not re-entrant: renew instead)
     */
    Grant acquire(String holder, String reason, Long ttlSeconds, String caller);

    /**
     * Releases the lock with its token.
     *
     * @return the lock as it was just before
     * @throws LockRequestException 400 without a token, 409 when no lock is held
     * @throws Locked               when the token is not the lock's
     */
    Status release(String token, String caller);

    /**
     * Ends the lock without its token: the human override for a holder that died or forgot. Audited as
     * {@code lock.force_release}, announced as {@code lock.forced}.
     *
     * @throws LockRequestException 409 when no lock is held
     */
    Status forceRelease(String caller);

    /** Extends the lease from now by {@code ttlSeconds} (or the lease it was acquired with). */
    Status renew(String token, Long ttlSeconds, String caller);

    /**
     * Runs {@code mutation} if the caller may change the gateway now: when no lock is held (the guard's fencing is
     * null), or when {@code presentedToken} is the lock's token. No acquisition happens between the check and the
     * end of the mutation; keep mutations short, acquisitions wait for them.
     *
     * @throws Locked when a lock is held and the token is missing or not its own
     */
    <T> T guarded(String presentedToken, Function<Guard, T> mutation);

    /** {@link #guarded(String, Function)} for mutations that do not need the fencing number. */
    default <T> T guarded(String presentedToken, Supplier<T> mutation) {
        return guarded(presentedToken, guard -> mutation.get());
    }

    /** The lock's status as JSON: {@code held, holder, reason, fencing, expires_at, seconds_left}. */
    ObjectNode toJson(Status status);

    /** The longest lease a holder may ask for. */
    Duration maxTtl();

    /** Stops its timers (the process is stopping). */
    void close();
}

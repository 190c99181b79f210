package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The maintenance lock shared by every replica through Redis: one holder across all of them. Each step is one Lua
 * script, so it is atomic on the server:
 * <ul>
 *   <li>{@code <prefix>:lock}, a hash (holder, reason, fencing, acquired_at, expires_at, ttl_seconds,
 *       token_sha256) that Redis itself expires at the end of the lease ({@code PEXPIRE});</li>
 *   <li>{@code <prefix>:lock:fencing}, a counter that never expires: every acquisition takes {@code INCR};</li>
 *   <li>{@code <prefix>:lock:changes}, a sorted set of the guarded mutations in progress on any replica (scored by a
 *       deadline, so one that died mid-change stops counting): an acquisition waits until it is empty, which is what
 *       makes a guarded check and its mutation one step across replicas.</li>
 * </ul>
 * Token digests are compared inside Redis; they are digests, so timing reveals nothing usable about a token.
 * A successful change is audited; if the audit fails the change is undone. Redis not answering is
 * {@link StateStoreUnavailable} (503): nothing is granted or changed without it.
 */
public final class RedisMaintenanceLock implements MaintenanceLock {

    private static final Logger LOG = Logger.getLogger(RedisMaintenanceLock.class);
    /** A guarded mutation on a replica that died counts this long at most. */
    private static final long CHANGE_BOUND_MS = 120_000;
    /** How long an acquisition waits for guarded mutations in progress before it gives up. */
    private static final long ACQUIRE_WAIT_MS = 30_000;
    private static final String FIELDS = "'holder', 'reason', 'fencing', 'acquired_at', 'expires_at', 'ttl_seconds', "
            + "'token_sha256'";

    private static final String ACQUIRE = """
            redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
            if redis.call('EXISTS', KEYS[1]) == 1 then
              local v = redis.call('HMGET', KEYS[1], %s)
              return {'locked', v[1], v[2], v[3], v[4], v[5], v[6], v[7]}
            end
            if redis.call('ZCARD', KEYS[3]) > 0 then return {'busy'} end
            if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[7]) then
              redis.call('SET', KEYS[2], ARGV[7])
            end
            if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[8]) then return {'exhausted'} end
            local f = redis.call('INCR', KEYS[2])
            -- f goes back as an integer reply: Lua's tostring would print a number past 1e14 as 9.007e+15
            local expires = tonumber(ARGV[1]) + tonumber(ARGV[4])
            redis.call('HSET', KEYS[1], 'holder', ARGV[2], 'reason', ARGV[3], 'fencing', f, 'acquired_at', ARGV[1],
              'expires_at', expires, 'ttl_seconds', ARGV[5], 'token_sha256', ARGV[6])
            redis.call('PEXPIRE', KEYS[1], ARGV[4])
            return {'ok', ARGV[2], ARGV[3], f, ARGV[1], tostring(expires), ARGV[5], ARGV[6]}
            """.formatted(FIELDS);
    /** Release (ARGV[2] = '0': the token must match) or force release ('1'); marks the lease as ended. */
    private static final String RELEASE = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
            local v = redis.call('HMGET', KEYS[1], %s)
            if ARGV[2] ~= '1' and v[7] ~= ARGV[1] then return {'locked', v[1], v[2], v[3], v[4], v[5], v[6], v[7]} end
            redis.call('DEL', KEYS[1])
            redis.call('SET', ARGV[3] .. v[3], '1', 'EX', 86400)
            return {'ok', v[1], v[2], v[3], v[4], v[5], v[6], v[7]}
            """.formatted(FIELDS);
    private static final String RENEW = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
            local v = redis.call('HMGET', KEYS[1], %s)
            if v[7] ~= ARGV[1] then return {'locked', v[1], v[2], v[3], v[4], v[5], v[6], v[7]} end
            local ttlSeconds = ARGV[3]
            if ttlSeconds == '' then ttlSeconds = v[6] end
            local expires = tonumber(ARGV[2]) + tonumber(ttlSeconds) * 1000
            redis.call('HSET', KEYS[1], 'expires_at', expires, 'ttl_seconds', ttlSeconds)
            redis.call('PEXPIRE', KEYS[1], tonumber(ttlSeconds) * 1000)
            return {'ok', v[1], v[2], v[3], v[4], tostring(expires), ttlSeconds, v[7], v[5], v[6]}
            """.formatted(FIELDS);
    /** Checks the presented digest and, if the change may go ahead, records it as in progress. */
    private static final String GUARD = """
            if redis.call('EXISTS', KEYS[1]) == 1 then
              local v = redis.call('HMGET', KEYS[1], %s)
              if v[7] ~= ARGV[1] then return {'locked', v[1], v[2], v[3], v[4], v[5], v[6], v[7]} end
              redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
              return {'ok', v[1], v[2], v[3], v[4], v[5], v[6], v[7]}
            end
            redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
            return {'free'}
            """.formatted(FIELDS);
    /** Undoes an audited change that could not be audited: puts the lock back as it was, or deletes it. */
    private static final String RESTORE = """
            if ARGV[1] == '' then
              if redis.call('HGET', KEYS[1], 'fencing') == ARGV[2] then redis.call('DEL', KEYS[1]) end
              return 1
            end
            local left = tonumber(ARGV[5]) - tonumber(ARGV[8])
            if left <= 0 then return 0 end
            redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'reason', ARGV[3], 'fencing', ARGV[2], 'acquired_at',
              ARGV[4], 'expires_at', ARGV[5], 'ttl_seconds', ARGV[6], 'token_sha256', ARGV[7])
            redis.call('PEXPIRE', KEYS[1], left)
            return 1
            """;

    /** The lock as the scripts return it. */
    private record Held(String holder, String reason, long fencing, long acquiredAt, long expiresAt,
                        long ttlSeconds, String sha) {

        static Held of(Response r) {
            String reason = r.get(2) == null ? "" : r.get(2).toString();
            return new Held(r.get(1).toString(), reason.isEmpty() ? null : reason, Long.parseLong(r.get(3).toString()),
                    Long.parseLong(r.get(4).toString()), Long.parseLong(r.get(5).toString()),
                    Long.parseLong(r.get(6).toString()), r.get(7).toString());
        }

        Instant expiry() {
            return Instant.ofEpochMilli(expiresAt);
        }
    }

    private final StateStore store;
    private final AuditLog audit;
    private final Webhooks webhooks;
    private final Vertx vertx;
    private final ObjectMapper mapper;
    private final Duration defaultTtl;
    private final Duration maxTtl;
    private final String lockKey;
    private final List<String> changeKeys;
    /**
     * The highest fencing number this replica has seen. An acquisition raises the counter to it first, so numbers
     * keep growing even if Redis restarted without its data.
     */
    private final AtomicLong highestFencing = new AtomicLong();

    public RedisMaintenanceLock(StateStore store, AuditLog audit, Webhooks webhooks, Vertx vertx, ObjectMapper mapper,
                                Duration defaultTtl, Duration maxTtl) {
        LockRules.checkTtls(defaultTtl, maxTtl);
        this.store = store;
        this.audit = audit;
        this.webhooks = webhooks;
        this.vertx = vertx;
        this.mapper = mapper;
        this.defaultTtl = defaultTtl;
        this.maxTtl = maxTtl;
        this.lockKey = store.key("lock");
        this.changeKeys = List.of(lockKey, store.key("lock:changes"));
    }

    @Override
    public Status status() {
        Response r = store.call(Command.HMGET, lockKey, "holder", "reason", "fencing", "acquired_at", "expires_at",
                "ttl_seconds", "token_sha256");
        if (r.get(0) == null) {
            Response fencing = store.call(Command.GET, store.key("lock:fencing"));
            long last = Math.max(highestFencing.get(), fencing == null ? 0 : fencing.toLong());
            highestFencing.accumulateAndGet(last, Math::max);
            return new Status(false, null, null, last, null, 0);
        }
        String reason = r.get(1) == null ? "" : r.get(1).toString();
        Instant expiry = Instant.ofEpochMilli(r.get(4).toLong());
        return new Status(true, r.get(0).toString(), reason.isEmpty() ? null : reason, r.get(2).toLong(), expiry,
                LockRules.secondsLeft(expiry));
    }

    @Override
    public Grant acquire(String holder, String reason, Long ttlSeconds, String caller) {
        String cleanHolder = LockRules.text(holder, "holder", LockRules.MAX_HOLDER, true);
        String cleanReason = LockRules.text(reason, "reason", LockRules.MAX_REASON, false);
        Duration ttl = LockRules.ttl(ttlSeconds, defaultTtl, maxTtl);
        String token = LockRules.newToken();
        long deadline = System.currentTimeMillis() + ACQUIRE_WAIT_MS;
        Response r;
        while (true) {
            r = store.eval(ACQUIRE, List.of(lockKey, store.key("lock:fencing"), store.key("lock:changes")),
                    System.currentTimeMillis(), cleanHolder, cleanReason == null ? "" : cleanReason, ttl.toMillis(),
                    ttl.toSeconds(), digest(token), highestFencing.get(), MAX_FENCING);
            if ("exhausted".equals(r.get(0).toString())) {
                // Never wrap (INCR would fail at 2^63, and numbers past 2^53 are not exact for every JSON reader).
                LOG.errorf("The maintenance lock's fencing counter in %s is at its maximum (%d); no lock can be "
                        + "granted", store.where(), MAX_FENCING);
                throw new CoordinationUnavailable(CoordinationUnavailable.STATE, "The lock's fencing counter is at its"
                        + " maximum, so no lock can be granted; see the gateway log.", null);
            }
            if (!"busy".equals(r.get(0).toString())) {
                break;
            }
            // A guarded change is under way on some replica: acquisitions wait for it, as one replica's monitor does.
            if (System.currentTimeMillis() > deadline) {
                throw new LockRequestException(409, "A change is still in progress on another replica; retry in a "
                        + "moment.", null, "change_in_progress");
            }
            pause();
        }
        Held held = Held.of(r);
        highestFencing.accumulateAndGet(held.fencing(), Math::max);
        if (!"ok".equals(r.get(0).toString())) {
            throw locked(held);
        }
        commit(held, null, held, "lock.acquire", caller, null);
        LOG.infof("Maintenance lock acquired by %s (fencing %d) until %s", held.holder(), held.fencing(),
                held.expiry());
        webhooks.publish(EventTypes.LOCK_ACQUIRED, eventData(held));
        watchExpiry(held);
        return new Grant(held.holder(), held.reason(), token, held.fencing(), held.expiry());
    }

    @Override
    public Status release(String token, String caller) {
        LockRules.requireToken(token);
        Held released = end(digest(token), false, "lock.release", caller);
        LOG.infof("Maintenance lock released by its holder %s (fencing %d)", released.holder(), released.fencing());
        webhooks.publish(EventTypes.LOCK_RELEASED, eventData(released));
        return statusOf(released);
    }

    @Override
    public Status forceRelease(String caller) {
        Held released = end("", true, "lock.force_release", caller);
        LOG.warnf("Maintenance lock of %s (fencing %d) FORCE-released by %s", released.holder(), released.fencing(),
                caller);
        var data = eventData(released);
        data.put("forced_by", caller);
        webhooks.publish(EventTypes.LOCK_FORCED, data);
        return statusOf(released);
    }

    @Override
    public Status renew(String token, Long ttlSeconds, String caller) {
        LockRules.requireToken(token);
        if (ttlSeconds != null) {
            LockRules.ttl(ttlSeconds, defaultTtl, maxTtl);
        }
        Response r = store.eval(RENEW, List.of(lockKey), digest(token), System.currentTimeMillis(),
                ttlSeconds == null ? "" : ttlSeconds);
        Held renewed = checked(r);
        Held before = new Held(renewed.holder(), renewed.reason(), renewed.fencing(), renewed.acquiredAt(),
                Long.parseLong(r.get(8).toString()), Long.parseLong(r.get(9).toString()), renewed.sha());
        commit(renewed, before, before, "lock.renew", caller, renewed.fencing());
        LOG.infof("Maintenance lock of %s (fencing %d) renewed until %s", renewed.holder(), renewed.fencing(),
                renewed.expiry());
        watchExpiry(renewed);
        return statusOf(renewed);
    }

    @Override
    public <T> T guarded(String presentedToken, Function<Guard, T> mutation) {
        String change = store.replicaId() + ":" + UUID.randomUUID();
        Response r = store.eval(GUARD, changeKeys, presentedToken == null ? "" : digest(presentedToken.strip()), change,
                System.currentTimeMillis() + CHANGE_BOUND_MS);
        String outcome = r.get(0).toString();
        if ("locked".equals(outcome)) {
            throw locked(Held.of(r));
        }
        try {
            return mutation.apply(new Guard("ok".equals(outcome) ? Held.of(r).fencing() : null));
        } finally {
            try {
                store.call(Command.ZREM, changeKeys.get(1), change);
            } catch (StateStoreUnavailable e) {
                // It stops counting at its deadline anyway; acquisitions wait until then.
                LOG.warnf("Could not mark a guarded change as done: %s", e.getMessage());
            }
        }
    }

    @Override
    public ObjectNode toJson(Status status) {
        return LockRules.toJson(mapper, status);
    }

    @Override
    public Duration maxTtl() {
        return maxTtl;
    }

    @Override
    public void close() {
        // Timers end with Vert.x; the lease itself lives in Redis.
    }

    private Held end(String sha, boolean force, String action, String caller) {
        Response r = store.eval(RELEASE, List.of(lockKey), sha, force ? "1" : "0", store.key("lock:ended:"));
        Held released = checked(r);
        commit(null, released, released, action, caller, force ? null : released.fencing());
        return released;
    }

    private Held checked(Response r) {
        String outcome = r.get(0).toString();
        if ("none".equals(outcome)) {
            throw LockRules.notHeld();
        }
        Held held = Held.of(r);
        if ("locked".equals(outcome)) {
            throw locked(held);
        }
        return held;
    }

    /**
     * Audits a change already made in Redis; if the audit fails, puts the lock back as it was ({@code before}, or
     * no lock) and rethrows: an operator never changes the gateway without a trace.
     */
    private void commit(Held after, Held before, Held subject, String action, String caller, Long lockUsed) {
        try {
            audit.record(caller, action, TARGET, before == null ? null : toJson(statusOf(before)),
                    after == null ? null : toJson(statusOf(after)), AuditLog.OK, lockUsed);
        } catch (CoordinationUnavailable e) {
            try {
                if (before == null) {
                    store.eval(RESTORE, List.of(lockKey), "", subject.fencing());
                } else {
                    store.eval(RESTORE, List.of(lockKey), before.holder(), before.fencing(),
                            before.reason() == null ? "" : before.reason(), before.acquiredAt(), before.expiresAt(),
                            before.ttlSeconds(), before.sha(), System.currentTimeMillis());
                }
            } catch (StateStoreUnavailable undo) {
                LOG.errorf("Could not undo %s in the state store after the audit failed: %s", action,
                        undo.getMessage());
            }
            throw e;
        }
    }

    /**
     * Announces {@code lock.expired} when the lease ends by itself. Every replica that granted or renewed it watches;
     * a marker set once per fencing number (also set by a release) makes exactly one of them announce it.
     */
    private void watchExpiry(Held held) {
        long delay = Math.max(1, held.expiresAt() - System.currentTimeMillis() + 50);
        vertx.setTimer(delay, id -> vertx.executeBlocking(() -> {
            try {
                Status now = status();
                if (now.held() && now.fencing() == held.fencing()) {
                    Held later = new Held(held.holder(), held.reason(), held.fencing(), held.acquiredAt(),
                            now.expiresAt().toEpochMilli(), held.ttlSeconds(), held.sha());
                    watchExpiry(later);
                } else if (store.call(Command.SET, store.key("lock:ended:" + held.fencing()), "1", "NX", "EX",
                        86400) != null) {
                    LOG.infof("Maintenance lock of %s (fencing %d) expired at %s", held.holder(), held.fencing(),
                            held.expiry());
                    webhooks.publish(EventTypes.LOCK_EXPIRED, eventData(held));
                }
            } catch (StateStoreUnavailable e) {
                LOG.warnf("Could not check the maintenance lock's expiry: %s", e.getMessage());
            }
            return null;
        }, false));
    }

    private Status statusOf(Held held) {
        return new Status(true, held.holder(), held.reason(), held.fencing(), held.expiry(),
                LockRules.secondsLeft(held.expiry()));
    }

    private static Locked locked(Held held) {
        return new Locked(held.holder(), held.expiry(), LockRules.secondsLeft(held.expiry()));
    }

    private static java.util.Map<String, Object> eventData(Held held) {
        return LockRules.eventData(held.holder(), held.reason(), held.fencing(), held.expiry());
    }

    private static String digest(String token) {
        return HexFormat.of().formatHex(LockFile.sha256(token));
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LockRequestException(409, "Interrupted while waiting for a change in progress.", null,
                    "change_in_progress");
        }
    }
}

package org.canonic.gateway.state;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The replicas sharing one state store: who leads the periodic jobs, and how many are alive. With the embedded store
 * this replica is alone and always the leader.
 *
 * <p>With Redis, every third of {@code gateway.state.leader-ttl} each replica (1) refreshes its census key (expiring
 * after the TTL) and (2) claims or renews the leader key ({@code SET NX PX}, renewed only by its holder: one Lua
 * step). A leader counts as one only while its last renewal is younger than the TTL by its own clock, so a leader cut
 * off from Redis stops leading before another can take over (at most one runs the jobs; for a moment, none). A
 * stopped leader gives the key up at shutdown; one that died loses it when it expires.
 */
@Startup
@Singleton
public class Replicas {

    private static final Logger LOG = Logger.getLogger(Replicas.class);

    /** Renews the key if this replica holds it, takes it if nobody does; 1 when this replica leads. */
    private static final String CLAIM = """
            local holder = redis.call('GET', KEYS[1])
            if holder == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            if not holder then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              return 1
            end
            return 0
            """;
    private static final String RESIGN = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('DEL', KEYS[1])
            end
            return 0
            """;

    /** The longest a shutdown waits for a heartbeat in flight (a few calls, each bounded by the store's timeout). */
    private static final long HEARTBEAT_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final StateStore store;
    private final Vertx vertx;
    private final long ttlMs;
    private final AtomicBoolean beating = new AtomicBoolean();
    private volatile boolean leader;
    private volatile long leaderUntilNanos;
    private volatile String leaderId;
    private volatile int count = 1;
    private volatile boolean reachable = true;
    private long timer = -1;
    private boolean stopped;

    @Inject
    Replicas(StateStore store, StateStoreConfig config, Vertx vertx) {
        this(store, vertx, config.leaderTtl());
    }

    /** @throws InvalidConfigurationException when the TTL is outside 1s..10m */
    public Replicas(StateStore store, Vertx vertx, Duration ttl) {
        if (ttl.toMillis() < 1000 || ttl.toMillis() > 600_000) {
            throw new InvalidConfigurationException(List.of("gateway.state.leader-ttl must lie between 1s and 10m, got "
                    + ttl));
        }
        this.store = store;
        this.vertx = vertx;
        this.ttlMs = ttl.toMillis();
        if (!store.shared()) {
            leader = true;
            leaderUntilNanos = Long.MAX_VALUE;
            leaderId = store.replicaId();
            return;
        }
        heartbeat();
        timer = vertx.setPeriodic(Math.max(200, ttlMs / 3), id -> {
            if (beating.compareAndSet(false, true)) {
                vertx.executeBlocking(() -> {
                    try {
                        heartbeat();
                    } finally {
                        beating.set(false);
                    }
                    return null;
                }, false);
            }
        });
    }

    /** True while this replica runs the periodic jobs (leak watch, idle stop, readiness deadlines). */
    public boolean leader() {
        return leader && System.nanoTime() - leaderUntilNanos < 0;
    }

    /** The leader's replica id as last seen, or null when none was seen. */
    public String leaderId() {
        return leaderId;
    }

    /** Live replicas sharing the store (at least 1: this one), as of the last heartbeat. */
    public int replicas() {
        return Math.max(1, count);
    }

    /**
     * This replica's part of a limit that holds across all replicas: {@code ceil(limit / replicas())}, at least 1
     * for a positive limit. For a backend's concurrency, N replicas then never admit more than the limit plus at most
     * N-1 (rounding), instead of N times it. Re-read it when a decision is made: the census changes.
     */
    public int share(int limit) {
        if (limit <= 0) {
            return limit;
        }
        int replicas = replicas();
        return Math.max(1, (limit + replicas - 1) / replicas);
    }

    /** The replicas as JSON-ready values: for the admin view. */
    public String replicaId() {
        return store.replicaId();
    }

    /**
     * Whether the replica {@code replicaId} is in the census of {@code store}: its key is refreshed by its heartbeats
     * and expires one TTL after the last, so false means it has not reached the store for a whole TTL (dead, stopped,
     * or cut off, and then no longer leading either). Throws {@link StateStoreUnavailable} when the store does not
     * answer: not knowing is not "gone".
     */
    public static boolean alive(StateStore store, String replicaId) {
        return store.call(Command.EXISTS, census(store, replicaId)).toInteger() > 0;
    }

    private static String census(StateStore store, String replicaId) {
        return store.key("replica:" + replicaId);
    }

    /** False when the last heartbeat could not reach the store. */
    public boolean reachable() {
        return reachable;
    }

    private void heartbeat() {
        long started = System.nanoTime();
        try {
            store.call(Command.SET, census(store, store.replicaId()), "1", "PX", ttlMs);
            boolean leads = store.eval(CLAIM, List.of(store.key("leader")), store.replicaId(), ttlMs).toInteger() == 1;
            if (leads != leader) {
                LOG.infof("Replica %s %s the leader of the periodic jobs", store.replicaId(),
                        leads ? "is now" : "is no longer");
            }
            leaderUntilNanos = started + ttlMs * 1_000_000L;
            leader = leads;
            Response holder = store.call(Command.GET, store.key("leader"));
            leaderId = holder == null ? null : holder.toString();
            count = countReplicas();
            if (!reachable) {
                LOG.infof("Replica %s reaches the state store again", store.replicaId());
            }
            reachable = true;
        } catch (StateStoreUnavailable e) {
            if (reachable) {
                LOG.warnf("Replica %s cannot reach the state store (%s); it stops leading until it can",
                        store.replicaId(), store.where());
            }
            reachable = false;
            leader = false;
        }
    }

    private int countReplicas() {
        int found = 0;
        String cursor = "0";
        do {
            Response page = store.call(Command.SCAN, cursor, "MATCH", store.key("replica:*"), "COUNT", 1000);
            cursor = page.get(0).toString();
            found += page.get(1).size();
        } while (!cursor.equals("0"));
        return Math.max(1, found);
    }

    synchronized void stop(@Observes ShutdownEvent event) {
        if (stopped) {
            return; // the heartbeats are held already: a second wait for them would only run out
        }
        stopped = true;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        if (store.shared()) {
            // A heartbeat still running would renew the key just after the resignation, and the others would wait a
            // whole TTL for it to expire: wait for that one to end, and let no other start.
            holdHeartbeats();
            try {
                // Hand over at once rather than after the TTL; the census forgets this replica at once too.
                store.eval(RESIGN, List.of(store.key("leader")), store.replicaId());
                store.call(Command.DEL, census(store, store.replicaId()));
            } catch (RuntimeException e) {
                LOG.debugf("Could not resign at shutdown: %s", e.toString());
            }
            leader = false;
        }
    }

    /** Takes the heartbeat's turn for good (each of its calls is bounded by the store's timeout; so is this wait). */
    private void holdHeartbeats() {
        long deadline = System.nanoTime() + HEARTBEAT_WAIT_NANOS;
        while (!beating.compareAndSet(false, true)) {
            if (System.nanoTime() - deadline > 0) {
                LOG.debugf("A heartbeat was still running at shutdown; resigning anyway");
                return;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}

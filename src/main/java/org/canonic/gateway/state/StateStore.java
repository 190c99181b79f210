package org.canonic.gateway.state;

import io.quarkus.runtime.Startup;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.jboss.logging.Logger;

import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The state store this replica uses: {@link StateStoreConfig.Kind#EMBEDDED} (the state directory, nothing here) or
 * {@link StateStoreConfig.Kind#REDIS}, for which it owns the one Redis client (Vert.x's, on Quarkus's Vert.x) and the
 * subscriptions. A configured Redis that does not answer at start stops the boot: replicas that cannot share state
 * would each grant the lock and spend the cap. Calls block (each bounded by {@code gateway.state.redis-timeout}), so
 * callers are worker threads, never an event loop; a failed call is {@link StateStoreUnavailable}.
 */
@Startup
@Singleton
public class StateStore {

    private static final Logger LOG = Logger.getLogger(StateStore.class);
    private static final long RESUBSCRIBE_MS = 500;

    private final StateStoreConfig.Kind kind;
    private final Vertx vertx;
    private final String prefix;
    private final String replicaId;
    private final long timeoutMs;
    private final long streamMaxLength;
    private final String where;
    private final RedisOptions options;
    private final Redis redis;
    private final List<Redis> subscribers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    @Inject
    StateStore(StateStoreConfig config, RedisHostsConfig hosts, Vertx vertx) {
        this(vertx, config.store(), hosts.hosts(), config.redisTimeout(), config.redisKeyPrefix(),
                config.replicaId().map(String::strip).filter(id -> !id.isEmpty()).orElseGet(StateStore::defaultId),
                config.streamMaxLength());
    }

    /**
     * Connects (Redis) and checks the server answers.
     *
     * @throws InvalidConfigurationException when Redis is chosen without a usable address, or does not answer
     */
    public StateStore(Vertx vertx, StateStoreConfig.Kind kind, Optional<String> hosts, Duration timeout, String prefix,
                      String replicaId, long streamMaxLength) {
        this.kind = kind;
        this.vertx = vertx;
        this.prefix = prefix.strip();
        this.replicaId = replicaId;
        this.timeoutMs = Math.max(1, timeout.toMillis());
        this.streamMaxLength = streamMaxLength;
        if (kind == StateStoreConfig.Kind.EMBEDDED) {
            this.where = "embedded";
            this.options = null;
            this.redis = null;
            return;
        }
        String url = hosts.map(String::strip).orElse("");
        if (url.isEmpty() || url.contains(",")) {
            throw new InvalidConfigurationException(List.of("GATEWAY_STATE_STORE=redis needs one Redis server in "
                    + "quarkus.redis.hosts (QUARKUS_REDIS_HOSTS), e.g. redis://redis:6379"
                    + (url.isEmpty() ? "" : "; got several (only a standalone server is supported)")));
        }
        this.where = "redis at " + redacted(url);
        this.options = new RedisOptions().setConnectionString(url).setMaxPoolSize(16).setMaxPoolWaiting(512)
                .setMaxWaitingHandlers(4096).setPoolName("gateway-state").setMetricsName("gateway-state");
        this.redis = Redis.createClient(vertx, options);
        try {
            String pong = await(redis.send(Request.cmd(Command.PING)), Math.max(timeoutMs, 5000)).toString();
            LOG.infof("State store: %s (replica %s, keys %s:*), answered %s", where, replicaId, this.prefix, pong);
        } catch (RuntimeException e) {
            redis.close();
            throw new InvalidConfigurationException(List.of("state store " + where + " is unreachable: "
                    + describe(e) + "; start Redis (or Valkey) there, or set GATEWAY_STATE_STORE=embedded for one "
                    + "replica"));
        }
    }

    /** True when the state is shared through Redis. */
    public boolean shared() {
        return kind == StateStoreConfig.Kind.REDIS;
    }

    public StateStoreConfig.Kind kind() {
        return kind;
    }

    /** This replica's name in the census, the leader key and the streams. */
    public String replicaId() {
        return replicaId;
    }

    /** Where the state lives, without credentials: for messages. */
    public String where() {
        return where;
    }

    /** A Redis key (or channel) under the configured prefix. */
    public String key(String name) {
        return prefix + ":" + name;
    }

    /** Sends one command and waits for its answer; null answers stay null. */
    public Response call(Command command, Object... args) {
        Request request = Request.cmd(command);
        for (Object arg : args) {
            request.arg(arg.toString());
        }
        return send(request);
    }

    /** Runs a Lua script atomically (EVAL: the scripts are short, and Redis caches them by their hash). */
    public Response eval(String script, List<String> keys, Object... args) {
        Request request = Request.cmd(Command.EVAL).arg(script).arg(keys.size());
        keys.forEach(request::arg);
        for (Object arg : args) {
            request.arg(arg == null ? "" : arg.toString());
        }
        return send(request);
    }

    /**
     * Appends {@code json} to a shared stream with this replica's id (trimmed to about
     * {@code gateway.state.stream-max-length} entries); returns the entry id.
     */
    public String append(String stream, String json) {
        return call(Command.XADD, key(stream), "MAXLEN", "~", streamMaxLength, "*", "replica", replicaId, "line", json)
                .toString();
    }

    private Response send(Request request) {
        if (redis == null) {
            throw new IllegalStateException("the embedded state store has no Redis");
        }
        if (Context.isOnEventLoopThread()) {
            // A blocking wait here would stall every request of this event loop: a programming error.
            throw new IllegalStateException("a state store call must not run on an event loop");
        }
        try {
            return await(redis.send(request), timeoutMs);
        } catch (RuntimeException e) {
            if (e.getCause() instanceof Response reply && !transientError(reply.toString())) {
                // Redis answered, with an error: a bug in a command or script, not an outage. Still nothing changed.
                throw new IllegalStateException("Redis refused " + request.command() + ": " + reply, e);
            }
            throw new StateStoreUnavailable(where, e);
        }
    }

    /**
     * Calls {@code onChange} (on a worker, one call at a time) for every message on {@code channel}, and once after
     * each (re)subscription, since messages sent while this replica was cut off are lost: the reader must re-read
     * the whole state then. Resubscribes every half second while Redis is away.
     */
    public void subscribe(String channel, Runnable onChange) {
        // One client per channel for the process's life (its pool is named once for the metrics); connections
        // come and go with Redis.
        Redis client = Redis.createClient(vertx, new RedisOptions(options).setMaxPoolSize(1).setPoolCleanerInterval(-1)
                .setPoolName("gateway-subscriber-" + channel).setMetricsName("gateway-subscriber-" + channel));
        subscribers.add(client);
        connect(client, channel, onChange);
    }

    private void connect(Redis client, String channel, Runnable onChange) {
        if (closed) {
            return;
        }
        Runnable later = () -> {
            if (!closed) {
                vertx.setTimer(RESUBSCRIBE_MS, id -> connect(client, channel, onChange));
            }
        };
        client.connect().onSuccess(connection -> {
            AtomicBoolean ended = new AtomicBoolean();
            Runnable again = () -> {
                if (ended.compareAndSet(false, true)) {
                    connection.close();
                    later.run();
                }
            };
            connection.exceptionHandler(e -> {
                LOG.warnf("State store subscription to %s lost: %s; resubscribing", channel, e.toString());
                again.run();
            });
            connection.endHandler(v -> {
                if (!closed) {
                    LOG.infof("State store subscription to %s ended; resubscribing", channel);
                }
                again.run();
            });
            connection.handler(message -> {
                if (message.size() >= 3 && "message".equals(message.get(0).toString())) {
                    react(onChange);
                }
            });
            connection.send(Request.cmd(Command.SUBSCRIBE).arg(key(channel)))
                    .onSuccess(ok -> react(onChange))
                    .onFailure(e -> again.run());
        }).onFailure(e -> later.run());
    }

    /** Publishes on a channel under the prefix. */
    public void publish(String channel, String message) {
        call(Command.PUBLISH, key(channel), message);
    }

    private void react(Runnable onChange) {
        vertx.executeBlocking(() -> {
            try {
                onChange.run();
            } catch (RuntimeException e) {
                LOG.warnf("State store change could not be applied: %s", e.toString());
            }
            return null;
        }, true);
    }

    /** Error replies that mean "not now" (loading its data, busy with a script, a replica): an outage. */
    private static boolean transientError(String reply) {
        return reply.startsWith("LOADING") || reply.startsWith("BUSY") || reply.startsWith("MASTERDOWN")
                || reply.startsWith("READONLY") || reply.startsWith("TRYAGAIN");
    }

    private static <T> T await(Future<T> future, long timeoutMs) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer within " + timeoutMs + " ms", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException(cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The URL without user or password: it goes into messages and logs. */
    static String redacted(String url) {
        try {
            URI uri = URI.create(url);
            if (uri.getHost() == null) {
                return "(an unparseable URL)";
            }
            return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
        } catch (IllegalArgumentException e) {
            return "(an unparseable URL)";
        }
    }

    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getSimpleName() : message;
    }

    private static String defaultId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "replica";
        }
        return host + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @PreDestroy
    void close() {
        closed = true;
        subscribers.forEach(Redis::close);
        if (redis != null) {
            redis.close();
        }
    }
}

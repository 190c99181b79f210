package org.canonic.gateway.state;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import org.canonic.gateway.config.MillisDurationConverter;

import java.time.Duration;
import java.util.Optional;

/**
 * Where the state that must hold across replicas lives ({@code gateway.state.*} beside {@code gateway.state.dir}):
 * kept out of {@code GatewayConfig}, which is large enough. The Redis address is Quarkus's own property,
 * {@code quarkus.redis.hosts} ({@code QUARKUS_REDIS_HOSTS}), read by {@link RedisHostsConfig}.
 */
@ConfigMapping(prefix = "gateway.state")
public interface StateStoreConfig {

    /** The two stores. */
    enum Kind {
        /** The state directory of this process: one replica (the default). */
        EMBEDDED,
        /** A Redis (or Valkey) server shared by every replica. */
        REDIS
    }

    /** {@code GATEWAY_STATE_STORE}: {@code embedded} (default, one replica) or {@code redis} (several). */
    @WithDefault("embedded")
    Kind store();

    /**
     * {@code GATEWAY_STATE_KEY_FILE}: a mounted secret (32+ random bytes, the same on every replica) that seals the
     * secrets replicas share through Redis (the rented instances' vLLM keys). Required with the Redis store while
     * governed compute has an account key; unused with the embedded store.
     */
    Optional<String> keyFile();

    /** Every Redis call must answer within this, else the change it serves is refused (503). */
    @WithDefault("2s")
    @WithConverter(MillisDurationConverter.class)
    Duration redisTimeout();

    /**
     * How long a leader's claim lasts without renewal (renewed every third of it); also how long a stopped
     * replica still counts in the census. Between 1s and 10m.
     */
    @WithDefault("15s")
    @WithConverter(MillisDurationConverter.class)
    Duration leaderTtl();

    /** The prefix of every Redis key and channel, so that several gateways can share one server. */
    @WithDefault("gateway")
    String redisKeyPrefix();

    /** This replica's name in the census, the leader key and the shared audit stream; default: host + random. */
    Optional<String> replicaId();

    /** The shared audit and tracked-action streams keep about this many entries (the files keep everything). */
    @WithDefault("100000")
    long streamMaxLength();
}

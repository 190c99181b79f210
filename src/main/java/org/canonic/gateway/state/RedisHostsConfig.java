package org.canonic.gateway.state;

import io.smallrye.config.ConfigMapping;

import java.util.Optional;

/**
 * {@code quarkus.redis.hosts} ({@code QUARKUS_REDIS_HOSTS}), e.g. {@code redis://redis:6379}: the property the
 * Quarkus Redis extension reads. The gateway uses the Vert.x Redis client that extension wraps (the extension is
 * not available to this build), so keeping its property name makes moving to it a dependency swap. Mapped here so
 * that Quarkus knows the property and neither warns about nor rejects it.
 */
@ConfigMapping(prefix = "quarkus.redis")
public interface RedisHostsConfig {

    /** The Redis server (one: standalone), with credentials in the URL if it needs them. */
    Optional<String> hosts();
}

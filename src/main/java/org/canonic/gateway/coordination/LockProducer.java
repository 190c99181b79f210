package org.canonic.gateway.coordination;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.state.StateStore;

/**
 * The one {@link MaintenanceLock} of this replica, kept where the state store says: {@code lock.json} for the
 * embedded store, Redis when replicas share one. Built at start, so an untrustworthy {@code lock.json} or wrong TTL
 * bounds stop the boot.
 */
@Singleton
public class LockProducer {

    @Produces
    @Singleton
    @Startup
    MaintenanceLock lock(StateStore store, StateDirectory state, AuditLog audit, Webhooks webhooks, Vertx vertx,
                         ObjectMapper mapper, GatewayConfig config) {
        if (store.shared()) {
            return new RedisMaintenanceLock(store, audit, webhooks, vertx, mapper, config.lock().defaultTtl(),
                    config.lock().maxTtl());
        }
        return new FileMaintenanceLock(state, audit, webhooks, vertx, mapper, config.lock().defaultTtl(),
                config.lock().maxTtl());
    }

    void close(@Disposes MaintenanceLock lock) {
        lock.close();
    }
}

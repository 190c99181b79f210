package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.coordination.Webhooks;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.state.Replicas;
import org.canonic.gateway.state.StateStore;

import java.time.Clock;

/**
 * The one {@link Schedule} of this replica, kept where the state store says ({@code schedule.json}, or Redis when
 * replicas share one), built at start so that settings out of range or a schedule that cannot be read stop the boot,
 * and ticking from then on.
 */
@Singleton
public class ScheduleProducer {

    @Produces
    @Singleton
    @Startup
    Schedule schedule(ScheduleConfig config, GatewayConfig gateway, StateStore store, StateDirectory state,
                      Replicas replicas, Webhooks webhooks, Fleet fleet, AuditLog audit, Vertx vertx,
                      ObjectMapper mapper) {
        ScheduleSettings settings = ScheduleSettings.of(config, gateway.drainDeadline());
        ScheduleStore entries = store.shared() ? new RedisScheduleStore(store, mapper)
                : new FileScheduleStore(state, mapper);
        Schedule schedule = new Schedule(entries, settings, Clock.systemUTC(), replicas::leader, webhooks::publish,
                new FleetBackends(fleet, settings.drainDeadline()), audit, mapper);
        schedule.start(vertx);
        return schedule;
    }

    void close(@Disposes Schedule schedule) {
        schedule.stop();
    }
}

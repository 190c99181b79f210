package org.canonic.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.BodyBudgetSetting;
import org.canonic.gateway.memory.BodyBudget;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.telemetry.GatewayMetrics;

/** The one {@link BodyBudget} of the process, sized from configuration and the heap, exported as gauges. */
@Singleton
public class BodyBudgetProducer {

    @Produces
    @Singleton
    BodyBudget bodyBudget(GatewayConfig config, MeterRegistry registry) {
        long maxHeap = Runtime.getRuntime().maxMemory();
        long limit;
        try {
            limit = BodyBudgetSetting.bytes(config.limits().bodyBudget(), maxHeap);
        } catch (IllegalArgumentException invalid) {
            // BootChecks reports the setting and stops the boot; this only keeps the wiring from failing first.
            limit = BodyBudgetSetting.bytes(BodyBudgetSetting.DEFAULT, maxHeap);
        }
        BodyBudget budget = new BodyBudget(limit);
        new GatewayMetrics(registry).bodyBudget(budget, limit, BodyBudget::used,
                b -> b.refusals(BodyBudget.Body.REQUEST), b -> b.refusals(BodyBudget.Body.ANSWER));
        return budget;
    }
}

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
        BodyBudget budget = new BodyBudget(limit, shareOf(limit, config));
        new GatewayMetrics(registry).bodyBudget(budget, limit, BodyBudget::used,
                b -> b.refusals(BodyBudget.Body.REQUEST), b -> b.refusals(BodyBudget.Body.ANSWER));
        return budget;
    }

    /** One client's share: its percentage of the budget, but room for at least one body of the largest size. */
    static long shareOf(long limit, GatewayConfig config) {
        int percent = Math.max(1, Math.min(100, config.limits().bodyBudgetShare()));
        long share = Math.max(limit / 100 * percent, config.limits().maxBodySize().asLongValue());
        return Math.min(limit, share);
    }
}

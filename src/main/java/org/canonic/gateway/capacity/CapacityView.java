package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.TrackedInstance;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * What {@code GET /admin/compute/capacity} shows: each policy with its current, ready and desired instances, the
 * signal, the last decisions with their reasons, and what the recipe's instances will cost for the rest of the UTC
 * day (running at their $/h, stopped at their storage rate) beside today's committed spend and the daily cap, and the
 * expected time to ready per provider that a request waking the route is told.
 */
final class CapacityView {

    private CapacityView() {
    }

    static ObjectNode of(Collection<CapacityPolicy> policies, Function<String, PolicyState> states,
                         ComputeService compute, Clock clock, boolean leader, long defaultTimeToReadyMs) {
        long now = clock.millis();
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        double hoursLeft = (today.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli() - now)
                / 3_600_000.0;
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put("leader", leader);
        ArrayNode list = answer.putArray("policies");
        double projected = 0;
        List<TrackedInstance> all = compute.all();
        for (CapacityPolicy p : policies.stream().sorted(Comparator.comparing(CapacityPolicy::recipe))
                .toList()) {
            PolicyState st = states.apply(p.recipe());
            ObjectNode row = list.addObject();
            row.set("policy", p.view());
            List<TrackedInstance> mine = all.stream().filter(i -> p.recipe().equals(i.recipe()) && i.live()).toList();
            long current = mine.stream().filter(i -> CapacityController.ACTIVE.contains(i.state())).count();
            row.put("current_instances", current);
            row.put("ready_instances", mine.stream().filter(i -> i.state() == TrackedInstance.State.READY).count());
            row.put("desired_instances", st.desired < 0 ? Math.max(p.minInstances(), (int) current) : st.desired);
            Signal signal = st.signal;
            if (signal != null) {
                row.putObject("signal").put("waiting_per_instance", CapacityController.round(signal.waitingPerInstance()))
                        .put("open_per_instance", CapacityController.round(signal.openPerInstance())).put("serving", signal.serving())
                        .put("ttft_p90_ms", Double.isNaN(signal.ttftP90Ms()) ? null : CapacityController.round(signal.ttftP90Ms()));
            }
            double spend = 0;
            for (TrackedInstance i : mine) {
                double rate = i.state() == TrackedInstance.State.STOPPED ? i.stoppedUsdPerHour() : i.usdPerHour();
                spend += Double.isFinite(rate) ? rate * hoursLeft : 0;
            }
            projected += spend;
            row.put("projected_rest_of_day_usd", CapacityController.round(spend));
            // What a request waking the route would be told per provider: learned, or the default before any launch.
            ObjectNode ready = row.putObject("expected_time_to_ready_seconds");
            p.providers().forEach(provider -> ready.put(provider, compute.readinessTimes()
                    .expectedMs(p.recipe(), provider).orElse(defaultTimeToReadyMs) / 1000));
            row.set("decisions", st.decisions());
            if (today.equals(st.refusedDay)) {
                row.put("scale_out_refused_today", true);
            }
        }
        ObjectNode spend = compute.spend();
        answer.put("projected_rest_of_day_usd", CapacityController.round(projected));
        answer.put("committed_today_usd", spend.path("committed_today_usd").asDouble());
        answer.put("daily_cap_usd", spend.path("daily_cap_usd").asDouble());
        return answer;
    }
}

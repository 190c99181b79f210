package org.canonic.gateway.capacity;

import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.fleet.Fleet;

import java.util.List;

/**
 * Waiting requests and open requests per serving instance, from the fleet's own counts and vLLM's queue, and the TTFT
 * p90 of the first tokens the instances streamed since the last look ({@code NaN}: none came).
 */
record Signal(double waitingPerInstance, double openPerInstance, int serving, double ttftP90Ms) {

    Signal(double waitingPerInstance, double openPerInstance, int serving) {
        this(waitingPerInstance, openPerInstance, serving, Double.NaN);
    }

    Signal withTtftP90Ms(double ms) {
        return new Signal(waitingPerInstance, openPerInstance, serving, ms);
    }

    /** The signal of the serving instances {@code ready}, from their backends in {@code fleet} (no TTFT yet). */
    static Signal of(Fleet fleet, List<TrackedInstance> ready) {
        double waiting = 0;
        double open = 0;
        int serving = 0;
        for (TrackedInstance i : ready) {
            var backend = fleet.find(i.name());
            if (backend.isEmpty()) {
                continue;
            }
            var load = backend.get().load();
            var vllm = load.signals();
            waiting += load.queued() + (vllm == null ? 0 : vllm.waiting());
            open += load.score();
            serving++;
        }
        return serving == 0 ? new Signal(0, 0, 0) : new Signal(waiting / serving, open / serving, serving);
    }
}

package org.canonic.gateway.capacity;

import io.micrometer.core.instrument.MeterRegistry;
import org.canonic.gateway.compute.Interruption;
import org.canonic.gateway.coordination.EventTypes;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serving instances lost without being asked ({@link Interruption}: outbid, exited, gone, unresponsive), held per
 * recipe until the controller's next tick decides whether its policy still needs them replaced. The compute watch
 * adds (on its thread), the tick takes: the launch itself goes through the controller's normal scale-out path, with
 * the cost guard, in the tick that never overlaps itself. In memory: a leader that dies between the two leaves the
 * new leader's {@code min_instances} and demand signal to restore the capacity.
 */
final class Replacements {

    private final Map<String, Deque<Interruption>> pending = new ConcurrentHashMap<>();

    void add(Interruption lost) {
        Deque<Interruption> queue = pending.computeIfAbsent(lost.recipe(), r -> new ArrayDeque<>());
        synchronized (queue) {
            queue.addLast(lost);
        }
    }

    /** The oldest loss of the recipe not decided yet, or null. */
    Interruption take(String recipe) {
        Deque<Interruption> queue = pending.get(recipe);
        if (queue == null) {
            return null;
        }
        synchronized (queue) {
            return queue.pollFirst();
        }
    }

    /** Forgets the recipe's losses (its policy was taken away: nothing is launched for it any more). */
    void forget(String recipe) {
        pending.remove(recipe);
    }

    /**
     * Whether a lost serving instance is to be replaced: the reason for the scale-out when the policy still needs it
     * (fewer active than it wanted before the loss, within its minimum and maximum), else null with the decision
     * recorded. The lost one is never started again in its own place (an outbid machine's GPU went to the higher
     * bid). The launch then goes through the normal scale-out path and its cost guard, at once (no signal window, no
     * cooldown); a refusal is reported once for the UTC day like any other, a failed launch is not tried again here
     * (the minimum and the demand signal take over).
     */
    static String needed(CapacityPolicy p, PolicyState st, long now, int active, Interruption lost) {
        st.startFailed.add(lost.instance());
        String what = lost.instance() + " " + lost.kind() + " (" + lost.reason() + ")";
        int before = st.desired < 0 ? active + 1 : st.desired;
        int needed = Math.max(p.minInstances(), Math.min(before, p.maxInstances()));
        if (active >= needed) {
            st.record(now, "hold", what + "; not replaced: " + active + " active meet the " + needed + " needed",
                    false);
            return null;
        }
        st.desired = needed;
        return "replacing " + what;
    }

    /** A scale-out counts as {@code gateway.compute.scale_out}, a replacement as {@code gateway.compute.replaced}. */
    static void counted(MeterRegistry registry, CapacityPolicy p, String provider, String replacing) {
        registry.counter(replacing == null ? "gateway.compute.scale_out" : "gateway.compute.replaced", "recipe",
                p.recipe(), "provider", provider).increment();
    }

    /** The decision's name in the view. */
    static String action(String replacing) {
        return replacing == null ? "scale_out" : "replace";
    }

    static String event(String replacing) {
        return replacing == null ? EventTypes.COMPUTE_SCALE_OUT : EventTypes.COMPUTE_REPLACED;
    }
}

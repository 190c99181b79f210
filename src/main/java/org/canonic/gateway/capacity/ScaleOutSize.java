package org.canonic.gateway.capacity;

/**
 * How many instances a scale-out decision launches at once, so that a steep ramp or a burst is followed in one step
 * rather than one launch per cooldown. The work on the serving instances (their open requests, the waiting ones
 * included) is spread over instances that each take what one runs now plus the waiting target; instances already
 * launching count as capacity on the way. Bounded by {@code max_scale_out_step} and {@code max_instances}.
 */
final class ScaleOutSize {

    private ScaleOutSize() {
    }

    /**
     * The instances the policy wants in all (serving and launching), for a signal that calls for more: at least one
     * more than serve now (the signal held above target), else enough for the open work at the per-instance capacity.
     */
    static int wanted(CapacityPolicy p, Signal s) {
        int serving = s.serving();
        double open = s.openPerInstance() * serving;
        // What one instance runs now (open minus waiting, at least one) plus the waiting it may hold at the target.
        double running = Math.max(1, s.openPerInstance() - s.waitingPerInstance());
        double perInstance = running + p.scaleOutWaitingPerInstance();
        int forTheWork = (int) Math.min(CapacityPolicy.MAX_INSTANCES_LIMIT, Math.ceil(open / perInstance));
        return Math.max(serving + 1, forTheWork);
    }

    /** How many to launch now, with {@code active} instances serving or launching: 0 when those cover it. */
    static int launches(CapacityPolicy p, Signal s, int active) {
        int wanted = Math.min(wanted(p, s), p.maxInstances());
        return Math.max(0, Math.min(p.maxScaleOutStep(), wanted - active));
    }
}

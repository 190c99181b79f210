package org.canonic.gateway.placement;

/**
 * Rations hedges on one route: over the last minute, hedges may be at most a share of the route's requests. A hedge
 * sends the same prompt to a second replica, whose cache rarely holds it, so an unbounded hedger would double the
 * prefill work exactly when the fleet is slow. Counted in one-second buckets of a one-minute ring.
 */
public final class HedgeBudget {

    private static final int SECONDS = 60;

    private final double maxShare;
    private final long[] requests = new long[SECONDS];
    private final long[] hedges = new long[SECONDS];
    private final long[] bucketSecond = new long[SECONDS];

    HedgeBudget(double maxShare) {
        this.maxShare = Math.max(0, maxShare);
    }

    /** A request of the route started. */
    synchronized void request() {
        requests[bucket()]++;
    }

    /** Takes one hedge from the budget if the last minute leaves room for it. */
    public synchronized boolean tryTake() {
        int now = bucket();
        long oldest = bucketSecond[now] - SECONDS;
        long requestCount = 0;
        long hedgeCount = 0;
        for (int i = 0; i < SECONDS; i++) {
            // A bucket nobody touched for a minute holds an older minute's counts.
            if (bucketSecond[i] > oldest) {
                requestCount += requests[i];
                hedgeCount += hedges[i];
            }
        }
        if (hedgeCount + 1 > maxShare * requestCount) {
            return false;
        }
        hedges[now]++;
        return true;
    }

    /** This second's bucket, emptied first if it still holds a second a minute old. */
    private int bucket() {
        long second = System.nanoTime() / 1_000_000_000L;
        int index = (int) Math.floorMod(second, SECONDS);
        if (bucketSecond[index] != second) {
            bucketSecond[index] = second;
            requests[index] = 0;
            hedges[index] = 0;
        }
        return index;
    }
}

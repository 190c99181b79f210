package org.canonic.gateway.usage;

/**
 * Times to first token in fixed buckets, so that buckets of the aggregate add up and percentiles can be read from
 * any sum of them. A percentile is interpolated linearly inside the bucket that holds its rank (as Prometheus'
 * {@code histogram_quantile} does), so it is exact to the bucket's width: finer below a second, where TTFT matters
 * most, coarser above. Not thread-safe: the owner synchronizes.
 */
final class TtftHistogram {

    /** Upper bounds in ms; the last bucket is everything above the last bound. */
    static final double[] BOUNDS_MS = {25, 50, 75, 100, 150, 200, 300, 400, 500, 650, 800, 1000, 1250, 1500, 2000,
            2500, 3000, 4000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000};

    private final long[] counts = new long[BOUNDS_MS.length + 1];
    private long total;

    void add(double ms) {
        addBucket(bucketOf(ms), 1);
    }

    /** The bucket a time falls in: the first whose bound it does not exceed. */
    static int bucketOf(double ms) {
        int i = 0;
        while (i < BOUNDS_MS.length && ms > BOUNDS_MS[i]) {
            i++;
        }
        return i;
    }

    void addBucket(int bucket, long count) {
        if (bucket >= 0 && bucket < counts.length) {
            counts[bucket] += count;
            total += count;
        }
    }

    void addAll(TtftHistogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
    }

    long total() {
        return total;
    }

    /** The {@code q} quantile (0..1) in ms, or -1 when nothing was counted. Above the last bound: that bound. */
    double quantile(double q) {
        if (total == 0) {
            return -1;
        }
        double rank = q * total;
        long below = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0 && below + counts[i] >= rank) {
                if (i == BOUNDS_MS.length) {
                    return BOUNDS_MS[BOUNDS_MS.length - 1];
                }
                double lower = i == 0 ? 0 : BOUNDS_MS[i - 1];
                double share = (rank - below) / counts[i];
                return lower + (BOUNDS_MS[i] - lower) * Math.max(0, Math.min(1, share));
            }
            below += counts[i];
        }
        return BOUNDS_MS[BOUNDS_MS.length - 1];
    }
}

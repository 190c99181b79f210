package org.canonic.gateway.capacity;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A working day of chat requests from a team of coding agents, as requests per simulated minute: a quiet night, a
 * morning ramp, bursts, a lunch dip and an evening decline, all relative to {@code peak} (the plateau's rate; bursts
 * go above it). Arrivals are a Poisson process of that rate, drawn once from a fixed seed, so both arms of the
 * benchmark and every run with the same seed get exactly the same requests.
 */
final class DayDemand {

    static final long MINUTE_MS = 60_000;
    static final long HOUR_MS = 60 * MINUTE_MS;

    /** One request: when it arrives (ms since the simulated midnight, negative in the lead-in) and its work. */
    record Arrival(long id, long atMs, long prefillMs, long decodeMs) {
    }

    private DayDemand() {
    }

    /** The share of the plateau's rate at {@code hour} (0-24, fractional). */
    static double shape(double hour) {
        double h = ((hour % 24) + 24) % 24;
        double base;
        if (h < 7) {
            base = 0.02;                                   // night: a few scheduled jobs
        } else if (h < 9.5) {
            base = 0.02 + (0.85 - 0.02) * (h - 7) / 2.5;   // morning ramp
        } else if (h < 12) {
            base = 0.85;
        } else if (h < 13.5) {
            base = 0.45;                                   // lunch dip
        } else if (h < 17) {
            base = 0.9;
        } else if (h < 19) {
            base = 0.9 + (0.2 - 0.9) * (h - 17) / 2;       // evening decline
        } else if (h < 22) {
            base = 0.2 + (0.02 - 0.2) * (h - 19) / 3;      // the last ones
        } else {
            base = 0.02;
        }
        // Bursts: a release, a demo, the end-of-day push.
        if (h >= 10 && h < 10.5 || h >= 16 && h < 16.33) {
            base *= 1.3;
        } else if (h >= 14.5 && h < 15) {
            base *= 1.25;
        }
        return base;
    }

    /** The highest share of the day (a burst on the plateau). */
    static double peakShare() {
        double max = 0;
        for (int m = 0; m < 24 * 60; m++) {
            max = Math.max(max, shape(m / 60.0));
        }
        return max;
    }

    /**
     * Every arrival from {@code fromMs} to {@code toMs}: per simulated minute a Poisson number of requests at the
     * day's rate, spread uniformly over the minute; each with a prefill of 0.3-1.5 s and a decode of
     * {@code meanDecodeMs} on average (uniform between a fifth and 1.8 times it: short edits and long rewrites).
     */
    static List<Arrival> arrivals(long fromMs, long toMs, double peakPerMinute, long meanDecodeMs, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Arrival> all = new ArrayList<>();
        long id = 0;
        for (long minute = Math.floorDiv(fromMs, MINUTE_MS) * MINUTE_MS; minute < toMs; minute += MINUTE_MS) {
            double rate = peakPerMinute * shape(minute / (double) HOUR_MS);
            int n = poisson(random, rate);
            List<Long> times = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                times.add(minute + random.nextLong(MINUTE_MS));
            }
            times.sort(null);
            for (long at : times) {
                long prefill = 300 + random.nextLong(1200);
                long decode = (long) (meanDecodeMs * (0.2 + 1.6 * random.nextDouble()));
                if (at >= fromMs && at < toMs) {
                    all.add(new Arrival(++id, at, prefill, decode));
                }
            }
        }
        return all;
    }

    private static int poisson(SplittableRandom random, double mean) {
        // Knuth's method: the rates here are small (tens per minute at most).
        double limit = Math.exp(-mean);
        double product = random.nextDouble();
        int n = 0;
        while (product > limit) {
            n++;
            product *= random.nextDouble();
        }
        return n;
    }

    /** Daytime, for the target: 08:00 to 18:00 of the simulated day. */
    static boolean daytime(long atMs) {
        long h = Math.floorMod(atMs, 24 * HOUR_MS);
        return h >= 8 * HOUR_MS && h < 18 * HOUR_MS;
    }
}

package org.canonic.gateway.ops;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.LongSupplier;

/**
 * Counts failed admin attempts per client address in fixed one-minute windows. Memory is bounded: past
 * {@link #MAX_ADDRESSES} addresses, expired windows are swept, and if that is not enough every new address shares one
 * window (a flood from many addresses then limits itself as a whole).
 */
final class FailureLimiter {

    static final long WINDOW_MS = 60_000;
    static final int MAX_ADDRESSES = 10_000;
    private static final String OVERFLOW = "(many addresses)";

    private final int maxFailures;
    private final LongSupplier clock;
    private final ConcurrentMap<String, Window> windows = new ConcurrentHashMap<>();

    private static final class Window {
        long start;
        int failures;

        Window(long start) {
            this.start = start;
        }
    }

    FailureLimiter(int maxFailures, LongSupplier clock) {
        this.maxFailures = maxFailures;
        this.clock = clock;
    }

    /**
     * Records one failure of {@code address}.
     *
     * @return 0 while the address is within its allowance, else the seconds until its window ends (Retry-After)
     */
    long fail(String address) {
        long now = clock.getAsLong();
        String key = address == null ? "unknown" : address;
        if (!windows.containsKey(key) && windows.size() >= MAX_ADDRESSES) {
            windows.values().removeIf(w -> expired(w, now));
            if (windows.size() >= MAX_ADDRESSES) {
                key = OVERFLOW;
            }
        }
        Window window = windows.computeIfAbsent(key, k -> new Window(now));
        synchronized (window) {
            if (expired(window, now)) {
                window.start = now;
                window.failures = 0;
            }
            window.failures++;
            if (window.failures <= maxFailures) {
                return 0;
            }
            return Math.max(1, (window.start + WINDOW_MS - now + 999) / 1000);
        }
    }

    private static boolean expired(Window window, long now) {
        synchronized (window) {
            return now - window.start >= WINDOW_MS;
        }
    }
}

package org.canonic.gateway.usage;

import java.util.Map;
import java.util.TreeMap;

/**
 * The counters of one bucket of the aggregate (one hour, key, route, backend and model), or of a sum of buckets:
 * requests, outcomes other than {@code completed} by class, tokens in and out, and the TTFT histogram.
 * Synchronized: the ledger's writer adds while an admin request reads.
 */
final class UsageTally {

    private long requests;
    private final Map<String, Long> errors = new TreeMap<>();
    private long input;
    private long output;
    private final TtftHistogram ttft = new TtftHistogram();

    synchronized void add(UsageEvent event) {
        requests++;
        if (event.outcome() != null && !"completed".equals(event.outcome())) {
            errors.merge(event.outcome(), 1L, Long::sum);
        }
        input += event.input();
        output += event.output();
        if (event.ttftMs() >= 0) {
            ttft.add(event.ttftMs());
        }
    }

    /** Adds one counter as the shared book stores it (see {@link SharedUsage}); unknown counters are ignored. */
    synchronized void addCounter(String counter, long value) {
        if (counter.equals(SharedUsage.REQUESTS)) {
            requests += value;
        } else if (counter.equals(SharedUsage.INPUT)) {
            input += value;
        } else if (counter.equals(SharedUsage.OUTPUT)) {
            output += value;
        } else if (counter.startsWith(SharedUsage.ERROR)) {
            errors.merge(counter.substring(SharedUsage.ERROR.length()), value, Long::sum);
        } else if (counter.startsWith(SharedUsage.TTFT)) {
            try {
                ttft.addBucket(Integer.parseInt(counter.substring(SharedUsage.TTFT.length())), value);
            } catch (NumberFormatException e) {
                // written by a later version with other buckets: not counted
            }
        }
    }

    /** Adds {@code other} into this one (this one is a sum only its caller sees). */
    void addAll(UsageTally other) {
        synchronized (other) {
            requests += other.requests;
            other.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
            input += other.input;
            output += other.output;
            ttft.addAll(other.ttft);
        }
    }

    long requests() {
        return requests;
    }

    Map<String, Long> errors() {
        return errors;
    }

    long input() {
        return input;
    }

    long output() {
        return output;
    }

    TtftHistogram ttft() {
        return ttft;
    }
}

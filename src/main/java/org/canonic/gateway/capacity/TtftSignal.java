package org.canonic.gateway.capacity;

import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.fleet.TtftModel;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The TTFT signal of a policy: the p90 of the first tokens its instances streamed since the last decision, read from
 * what routing measures anyway (each backend's last 64 first tokens, {@link TtftModel}), pooled over the instances. A
 * backend seen for the first time contributes what it has; after that only what is new, so an instance that served
 * nobody since does not keep an old slow first token in the signal.
 */
final class TtftSignal {

    private TtftSignal() {
    }

    /**
     * @param seen per backend name, the sample count of the last look; updated here (backends gone are forgotten)
     * @return the p90 in milliseconds, NaN when no first token came since the last look
     */
    static double p90SinceLastLook(List<LiveBackend> backends, Map<String, Long> seen) {
        long[] all = new long[0];
        for (LiveBackend backend : backends) {
            TtftModel.Recent recent = backend.load().recentTtftSince(seen.getOrDefault(backend.name(), 0L));
            seen.put(backend.name(), recent.count());
            long[] merged = Arrays.copyOf(all, all.length + recent.nanos().length);
            System.arraycopy(recent.nanos(), 0, merged, all.length, recent.nanos().length);
            all = merged;
        }
        seen.keySet().retainAll(backends.stream().map(LiveBackend::name).toList());
        if (all.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(all);
        // Nearest rank: the smallest sample with at least 90 % of them at or below it.
        int rank = (int) Math.ceil(0.9 * all.length);
        return all[Math.max(0, rank - 1)] / 1e6;
    }
}

package org.canonic.gateway.compute;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What a fake provider bills, the way the provider does: every machine from its create to its destroy, at its
 * $/h while it runs (or loads) and at its storage rate while stopped, on the provider's own clock (the real one, or
 * the simulation's). The benchmarks read the money from here, never from the gateway's own estimate.
 */
public final class ProviderBilling {

    /** One stretch of a machine's life at one rate. */
    public record Stretch(String id, String label, long fromMs, long toMs, double usdPerHour) {
        /** Dollars of this stretch that fall between {@code fromMs} and {@code toMs} (a day's window). */
        public double usdWithin(long windowFrom, long windowTo) {
            long a = Math.max(fromMs, windowFrom);
            long b = Math.min(toMs, windowTo);
            return b <= a ? 0 : usdPerHour * (b - a) / 3_600_000.0;
        }
    }

    private record Open(String label, long sinceMs, double usdPerHour, double runningUsdPerHour,
                        double stoppedUsdPerHour) {
    }

    /** The provider's clock: {@code System::currentTimeMillis} unless a simulation sets its own. */
    public volatile LongSupplier clock = System::currentTimeMillis;
    private final Map<String, Open> open = new ConcurrentHashMap<>();
    private final List<Stretch> closed = new ArrayList<>();

    synchronized void created(String id, String label, double runningUsdPerHour, double stoppedUsdPerHour) {
        open.put(id, new Open(label, clock.getAsLong(), runningUsdPerHour, runningUsdPerHour, stoppedUsdPerHour));
    }

    /** The machine now runs (true) or is stopped (false): the stretch so far is billed, a new one starts. */
    synchronized void running(String id, boolean running) {
        Open o = open.get(id);
        if (o == null) {
            return;
        }
        double rate = running ? o.runningUsdPerHour() : o.stoppedUsdPerHour();
        if (rate == o.usdPerHour()) {
            return;
        }
        long now = clock.getAsLong();
        closed.add(new Stretch(id, o.label(), o.sinceMs(), now, o.usdPerHour()));
        open.put(id, new Open(o.label(), now, rate, o.runningUsdPerHour(), o.stoppedUsdPerHour()));
    }

    synchronized void destroyed(String id) {
        Open o = open.remove(id);
        if (o != null) {
            closed.add(new Stretch(id, o.label(), o.sinceMs(), clock.getAsLong(), o.usdPerHour()));
        }
    }

    /** Every stretch billed so far, those still running up to now. */
    public synchronized List<Stretch> stretches() {
        List<Stretch> all = new ArrayList<>(closed);
        long now = clock.getAsLong();
        open.forEach((id, o) -> all.add(new Stretch(id, o.label(), o.sinceMs(), now, o.usdPerHour())));
        return all;
    }

    public synchronized void reset() {
        open.clear();
        closed.clear();
        clock = System::currentTimeMillis;
    }
}

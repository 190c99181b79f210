package org.canonic.gateway.capacity;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The compressed day's report: both arms side by side, the ratios, and one PASS/MISS line per target. */
final class CapacityDayReport {

    /** The policy's cost at most this share of always-on's. */
    static final double COST_TARGET = 0.40;
    /** At least this share of daytime requests served without a capacity refusal. */
    static final double SERVED_TARGET = 0.99;

    final List<String> lines = new ArrayList<>();
    final boolean passed;
    final double costRatio;

    /** The first of {@code policies} is the one the targets judge; the others are shown beside it. */
    CapacityDayReport(CapacityDay.Settings s, int arrivals, CapacityDay.ArmResult on,
                      List<CapacityDay.ArmResult> policies, String header) {
        CapacityDay.ArmResult policy = policies.get(0);
        List<CapacityDay.ArmResult> all = new ArrayList<>();
        all.add(on);
        all.addAll(policies);
        lines.add("capacity day (issue 23 item 8): " + header);
        lines.add(String.format(Locale.ROOT, "settings: %s day, step %d s, seed %d, peak plateau %.1f req/min "
                        + "(bursts x%.2f), %d sequences per replica, mean decode %d s, TTFT objective %d s, launch "
                        + "%d-%d min, daytime 08:00-18:00, %d requests (lead-in hour included)",
                s.name(), s.step().toSeconds(), s.seed(), s.peakPerMinute(), DayDemand.peakShare(), s.seqs(),
                s.meanDecodeMs() / 1000, s.ttftObjectiveMs() / 1000, s.launchMinMs() / 60_000,
                s.launchMaxMs() / 60_000, arrivals));
        for (CapacityDay.ArmResult r : all) {
            CapacityPolicy p = r.policy();
            lines.add(String.format(Locale.ROOT, "policy of %s: min %d, max %d, scale out at %.1f waiting per "
                            + "instance for %d s, scale in at <= %.1f open per instance for %d s, cooldowns %d/%d s, "
                            + "%s, %s first", r.arm(), p.minInstances(), p.maxInstances(),
                    p.scaleOutWaitingPerInstance(), p.scaleOutWindow().toSeconds(), p.scaleInOpenPerInstance(),
                    p.scaleInWindow().toSeconds(), p.scaleOutCooldown().toSeconds(), p.scaleInCooldown().toSeconds(),
                    p.scaleInAction().name().toLowerCase(Locale.ROOT),
                    p.scaleInOrder().name().toLowerCase(Locale.ROOT))
                    + (p.windows().isEmpty() ? "" : ", windows " + p.windows().stream().map(w -> w.days() + " "
                    + w.from() + "-" + (w.toMidnight() ? "24:00" : w.to()) + " " + w.zone() + " min "
                    + w.minInstances()).toList()));
        }
        lines.add("");
        lines.add(String.format(Locale.ROOT, "%-10s %9s %8s %8s %8s %8s %8s %9s %9s %10s %9s %8s %8s %8s %7s",
                "arm", "usd", "inst-h", "launches", "peak", "requests", "served", "in-obj", "refused",
                "day-reqs", "day-ref", "ttft-p50", "ttft-p90", "ttft-p99", "wall-s"));
        for (CapacityDay.ArmResult r : all) {
            lines.add(String.format(Locale.ROOT, "%-10s %9.2f %8.1f %8d %8d %8d %8d %9d %9d %10d %9d %7.1fs %7.1fs "
                            + "%7.1fs %7d", r.arm(), r.usd(), r.instanceHours(), r.launches(), r.peakServing(),
                    r.requests(), r.served(), r.servedInObjective(), r.refused(), r.daytime(), r.daytimeRefused(),
                    r.ttftP50() / 1000.0, r.ttftP90() / 1000.0, r.ttftP99() / 1000.0, r.wallMs() / 1000));
            if (!r.refusals().isEmpty()) {
                lines.add("  " + r.arm() + " refusals: " + r.refusals());
            }
        }
        lines.add("");
        costRatio = on.usd() <= 0 ? Double.NaN : policy.usd() / on.usd();
        double served = policy.daytimeServedShare();
        for (CapacityDay.ArmResult r : policies) {
            lines.add(String.format(Locale.ROOT, "%s: cost $%.2f / always-on $%.2f = %.1f %%; daytime served "
                            + "without a capacity refusal %.2f %% (%d of %d); daytime within the TTFT objective (%d s) "
                            + "%.2f %%; served but waiting for capacity (TTFT over it) %d; refused at any hour %d",
                    r.arm(), r.usd(), on.usd(), 100 * r.usd() / on.usd(), 100 * r.daytimeServedShare(),
                    r.daytime() - r.daytimeRefused(), r.daytime(), s.ttftObjectiveMs() / 1000,
                    100.0 * r.daytimeServedInObjective() / Math.max(1, r.daytime()),
                    r.daytime() - r.daytimeRefused() - r.daytimeServedInObjective(), r.refused()));
        }
        lines.add(String.format(Locale.ROOT, "always-on: daytime within the TTFT objective %.2f %%, served but "
                        + "waiting for capacity %d", 100.0 * on.daytimeServedInObjective() / Math.max(1, on.daytime()),
                on.daytime() - on.daytimeRefused() - on.daytimeServedInObjective()));
        lines.add("targets (judged on arm '" + policy.arm() + "'):");
        boolean costOk = costRatio <= COST_TARGET;
        boolean servedOk = served >= SERVED_TARGET;
        lines.add(String.format(Locale.ROOT, "%s  policy cost <= %.0f %% of always-on (%.1f %%)",
                costOk ? "PASS" : "MISS", 100 * COST_TARGET, 100 * costRatio));
        lines.add(String.format(Locale.ROOT, "%s  >= %.0f %% of daytime requests served without a capacity refusal "
                + "(%.2f %%)", servedOk ? "PASS" : "MISS", 100 * SERVED_TARGET, 100 * served));
        passed = costOk && servedOk;
        lines.add("");
        for (CapacityDay.ArmResult r : policies) {
            lines.add(r.arm() + " arm: events, last decisions and a trace every 30 minutes (simulated time):");
            r.decisions().forEach(d -> lines.add("  " + d));
        }
    }

    String text() {
        return String.join("\n", lines) + "\n";
    }
}

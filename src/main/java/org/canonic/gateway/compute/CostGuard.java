package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * Admission by estimated cost, before anything is launched. Every launch reserves its estimate against today's (UTC)
 * cap, atomically; the tier only says what else is needed. Under {@code warn}: proceeds if it fits. Up to
 * {@code confirm}: proceeds with a warning if it fits. Above {@code confirm}, or over the cap at any size: refused
 * (402 / 409, with the estimate) unless the request repeats the exact estimate in {@code confirm_estimate_usd}; a
 * confirmed launch still counts against the cap.
 */
public final class CostGuard {

    public enum Tier { AUTO, WARN, CONFIRMED }

    /** What admission decided, and the reservation it made (keyed by the instance). */
    public record Admission(Tier tier, SpendLedger.Reservation reservation, String warning) {
    }

    private final SpendLedger ledger;
    private final long warnCents;
    private final long confirmCents;
    private final long capCents;
    private final Clock clock;

    public CostGuard(SpendLedger ledger, double warnUsd, double confirmUsd, double capUsd, Clock clock) {
        this.ledger = ledger;
        this.warnCents = cents(warnUsd);
        this.confirmCents = cents(confirmUsd);
        this.capCents = cents(capUsd);
        this.clock = clock;
    }

    /** Dollars to whole cents, rounding up: an estimate never understates. */
    public static long cents(double usd) {
        return BigDecimal.valueOf(usd).setScale(2, RoundingMode.CEILING).movePointRight(2).longValueExact();
    }

    public static String usd(long cents) {
        return BigDecimal.valueOf(cents).movePointLeft(2).setScale(2, RoundingMode.UNNECESSARY).toPlainString();
    }

    /**
     * Admits a launch of {@code estimateCents} for the instance {@code id}, or throws the refusal.
     *
     * @param confirmedUsd {@code confirm_estimate_usd} from the request, or null
     */
    public Admission admit(String id, long estimateCents, Double confirmedUsd, String estimateText) {
        boolean confirmed = confirmedUsd != null && cents(confirmedUsd) == estimateCents;
        LocalDate today = today();
        if (estimateCents <= confirmCents) {
            // Small launches too: twenty automatic $4.75 launches are $95, whatever the tier of each.
            var reservation = ledger.reserve(id, today, estimateCents, capCents);
            if (reservation.isPresent() && estimateCents < warnCents) {
                return new Admission(Tier.AUTO, reservation.get(), null);
            }
            if (reservation.isPresent()) {
                return new Admission(Tier.WARN, reservation.get(), "Estimate " + estimateText + " is $"
                        + usd(warnCents) + " or more; it counts against today's cap ($" + usd(ledger.committed(today))
                        + " of $" + usd(capCents) + " committed).");
            }
            if (!confirmed) {
                throw refusal(409, "daily_cap_exceeded", "Estimate " + estimateText + " does not fit in today's (UTC)"
                        + " cap: $" + usd(ledger.committed(today)) + " of $" + usd(capCents) + " is committed. Repeat"
                        + " the estimate as confirm_estimate_usd to launch anyway.", estimateCents);
            }
        } else if (!confirmed) {
            throw refusal(402, "estimate_needs_confirmation", "Estimate " + estimateText + " is over $"
                    + usd(confirmCents) + "; repeat it exactly as confirm_estimate_usd (" + usd(estimateCents)
                    + ") to launch.", estimateCents);
        }
        return new Admission(Tier.CONFIRMED, ledger.reserveOver(id, today, estimateCents), "Launched over the cost"
                + " guard's limits on confirmation of " + estimateText + ".");
    }

    /**
     * How {@link #admit} would treat an estimate now, reserving nothing: {@code tier} is {@code auto}, {@code warn},
     * {@code over_cap} (an automatic or warn-tier estimate that does not fit today's cap) or
     * {@code needs_confirmation}; the last two launch only with {@code confirm_estimate_usd}. A launch made
     * afterwards is admitted on its own: the cap may have moved in between.
     */
    public ObjectNode preview(long estimateCents) {
        LocalDate today = today();
        long committed = ledger.committed(today);
        String tier;
        if (estimateCents <= confirmCents) {
            tier = committed + estimateCents > capCents ? "over_cap" : estimateCents < warnCents ? "auto" : "warn";
        } else {
            tier = "needs_confirmation";
        }
        ObjectNode preview = JsonNodeFactory.instance.objectNode();
        preview.put("estimate_usd", Double.parseDouble(usd(estimateCents)));
        preview.put("tier", tier);
        preview.put("confirmation_needed", tier.equals("over_cap") || tier.equals("needs_confirmation"));
        preview.put("warn_usd", Double.parseDouble(usd(warnCents)));
        preview.put("confirm_usd", Double.parseDouble(usd(confirmCents)));
        preview.put("daily_cap_usd", Double.parseDouble(usd(capCents)));
        preview.put("committed_today_usd", Double.parseDouble(usd(committed)));
        return preview;
    }

    public SpendLedger ledger() {
        return ledger;
    }

    public LocalDate today() {
        return LocalDate.now(clock.withZone(ZoneOffset.UTC));
    }

    public long capCents() {
        return capCents;
    }

    private ComputeException refusal(int status, String code, String message, long estimateCents) {
        ObjectNode details = JsonNodeFactory.instance.objectNode();
        details.put("estimate_usd", Double.parseDouble(usd(estimateCents)));
        details.put("daily_cap_usd", Double.parseDouble(usd(capCents)));
        details.put("committed_today_usd", Double.parseDouble(usd(ledger.committed(today()))));
        return new ComputeException(status, code, message, details, false);
    }
}

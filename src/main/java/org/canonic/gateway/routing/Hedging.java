package org.canonic.gateway.routing;

import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.fleet.TtftModel;
import org.canonic.gateway.placement.HedgeBudget;
import org.canonic.gateway.placement.Placement;

/**
 * The timing side of one exchange's attempts: when a stream's first token is late enough to hedge, and how long an
 * attempt's first-token clock runs ({@link FirstTokenClock}). Both are sized by the prompt the backend must prefill,
 * through the backend's own TTFT model ({@link TtftModel}): late means late for this prompt on this backend, so a
 * 30k-token cold prompt is neither hedged nor timed out like a 100-token one.
 *
 * <p>A hedge is started at most once per request, for streams only (a non-stream answer's "first token" is the whole
 * generation), on routes that allow it, and within the route's budget.
 */
final class Hedging {

    private final ExchangeServices services;
    private final boolean stream;
    private final Runnable onLate;
    private final HedgeBudget budget;
    private final RoutingConfig.Hedging settings;
    private final FirstTokenClock firstTokenClock;
    private long timer = -1;
    private boolean spent;

    /** @param onLate runs on the exchange's event loop when an armed attempt's first token is late */
    Hedging(ExchangeServices services, Placement placement, boolean stream, Runnable onLate) {
        this.services = services;
        this.stream = stream;
        this.onLate = onLate;
        this.budget = placement.candidates().size() > 1 ? placement.hedges() : null;
        this.settings = services.routing().hedging();
        this.firstTokenClock = new FirstTokenClock(services.routing().firstTokenDeadline());
    }

    /** Starts watching {@code attempt}'s first token (replacing any earlier watch), unless no hedge may follow. */
    void arm(Attempt attempt) {
        disarm();
        if (!stream || budget == null || spent) {
            return;
        }
        TtftModel.Fit fit = attempt.backend().load().ttft();
        long lateMs = Math.max(settings.minDelay().toMillis(), (long) (fit.predictNanos(attempt.prefillTokens)
                * fit.lateRatio() / 1_000_000));
        if (lateMs >= clocks(attempt.backend(), attempt.prefillTokens).firstTokenMs()) {
            // The first-token clock moves on earlier than a hedge would start.
            return;
        }
        timer = services.vertx().setTimer(lateMs, id -> {
            timer = -1;
            onLate.run();
        });
    }

    void disarm() {
        if (timer >= 0) {
            services.vertx().cancelTimer(timer);
            timer = -1;
        }
    }

    /** Takes a hedge from the route's budget; true at most once per request. */
    boolean budgetAllows() {
        if (spent || budget == null || !budget.tryTake()) {
            return false;
        }
        spent = true;
        return true;
    }

    /** The prompt-aware first-token budget a stream would get on {@code backend} (for judging non-stream tries). */
    long streamFirstTokenMs(LiveBackend backend, long prefillTokens) {
        return firstTokenClock.clocks(backend, prefillTokens, true).firstTokenMs();
    }

    /** The clocks of an attempt on {@code backend} whose first token waits for {@code prefillTokens} of prefill. */
    Clocks clocks(LiveBackend backend, long prefillTokens) {
        return firstTokenClock.clocks(backend, prefillTokens, stream);
    }
}

package org.canonic.gateway.routing;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.config.RoutingConfig;
import org.canonic.gateway.fleet.LiveBackend;

/**
 * The first-token clock of a stream's attempt, sized by the prompt it sends: {@code base + slack x} the prefill the
 * backend's TTFT model predicts for the tokens its cache is not believed to hold, never longer than the backend's
 * configured first-token clock. A 30k-token cold prompt gets the time its prefill needs; a 100-token one fails over
 * after little more than the base. Non-stream requests keep the configured clock (their "first token" is the whole
 * generation), and so do RunPod serverless backends (cold starts, not prefill, decide their first tokens).
 */
final class FirstTokenClock {

    private final RoutingConfig.FirstTokenDeadline deadline;

    FirstTokenClock(RoutingConfig.FirstTokenDeadline deadline) {
        this.deadline = deadline;
    }

    /** The clocks of an attempt on {@code backend} with {@code uncachedTokens} of prompt to prefill. */
    Clocks clocks(LiveBackend backend, long uncachedTokens, boolean stream) {
        Backend spec = backend.spec();
        Clocks clocks = spec.clocks();
        if (!stream || !deadline.enabled() || spec.endpoint().isRunPodServerless()) {
            return clocks;
        }
        double prefillMs = backend.load().ttft().prefillNanos(uncachedTokens) / 1e6;
        long firstTokenMs = deadline.base().toMillis() + (long) Math.ceil(deadline.slack() * prefillMs);
        return firstTokenMs < clocks.firstTokenMs() ? clocks.withFirstToken(firstTokenMs) : clocks;
    }
}

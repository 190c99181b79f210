package org.canonic.gateway.backend;

import java.time.Duration;

/**
 * The four clocks one attempt runs under, in milliseconds. Each expiry is its own outcome (see
 * {@link AttemptOutcome}) so that an operator can tell a dead host from a cold start from a stalled stream.
 */
public record Clocks(long connectMs, long firstTokenMs, long idleMs, long totalMs) {

    public static Clocks of(Duration connect, Duration firstToken, Duration idle, Duration total) {
        return new Clocks(connect.toMillis(), firstToken.toMillis(), idle.toMillis(), total.toMillis());
    }

    /** The same clocks with another first-token clock (an attempt's own, sized for its prompt). */
    public Clocks withFirstToken(long firstTokenMs) {
        return new Clocks(connectMs, firstTokenMs, idleMs, totalMs);
    }
}

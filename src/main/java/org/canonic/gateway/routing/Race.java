package org.canonic.gateway.routing;

/**
 * The attempts of one exchange that run now: the primary (the one the attempt loop retries and moves on from) and, for
 * a hedged stream, the hedge racing it; then the winner, the attempt whose first data event came first. Used on the
 * exchange's event loop only.
 */
final class Race {

    private Attempt primary;
    private Attempt hedge;
    private Attempt winner;

    Attempt primary() {
        return primary;
    }

    Attempt hedge() {
        return hedge;
    }

    /** The committed attempt, or null before the commit point. */
    Attempt winner() {
        return winner;
    }

    void startPrimary(Attempt attempt) {
        primary = attempt;
    }

    void startHedge(Attempt attempt) {
        hedge = attempt;
    }

    boolean running(Attempt attempt) {
        return attempt != null && (attempt == primary || attempt == hedge);
    }

    /** Attempts running now. */
    int count() {
        return (primary != null ? 1 : 0) + (hedge != null ? 1 : 0);
    }

    /** Takes an attempt that ended out of the race; returns the one still running, if any. */
    Attempt forget(Attempt ended) {
        if (ended == primary) {
            primary = null;
            return hedge;
        }
        if (ended == hedge) {
            hedge = null;
            return primary;
        }
        return null;
    }

    /** The other attempt failed: {@code survivor} runs on alone, as the primary. */
    void carryOn(Attempt survivor) {
        primary = survivor;
        hedge = null;
    }

    /**
     * {@code first} delivered first: it wins and runs on alone. Returns the loser, which is out of the race already and
     * still to be closed, if there was one.
     */
    Attempt commit(Attempt first) {
        Attempt loser = first == primary ? hedge : primary;
        winner = first;
        primary = first;
        hedge = null;
        return loser;
    }
}

package org.canonic.gateway.backend;

import io.vertx.core.Vertx;

/**
 * The first-token, idle and total clocks of one attempt (connect is the HTTP client's own), on one timer.
 *
 * <p>The timer is not re-armed per event (that would cost a timer per token), nor when a clock starts unless that
 * clock would expire before the timer fires: when it fires it checks every clock and either reports the one that
 * expired or sleeps until the nearest. It is first armed for the shortest clock, which none can beat, so a quick
 * attempt costs one schedule and one cancel on the event loop's timer queue; a timer per clock had cost three pairs
 * per request. Used on the attempt's context only, so it needs no locks.
 */
final class AttemptClock {

    /** Called at most once, on the context, with the clock that expired. */
    interface Expiry {
        void expired(AttemptOutcome outcome, String detail);
    }

    private final Vertx vertx;
    private final Clocks clocks;
    private final boolean stream;
    private final Expiry expiry;

    private long totalDeadlineNanos;
    /** The running clock in ms (-1 before the request was sent), whether it is the idle clock, and its start. */
    private long clockMs = -1;
    private boolean idle;
    private long clockStartNanos;
    private long lastEventNanos;
    private boolean paused;
    private long timer = -1;
    private long timerDueNanos;

    AttemptClock(Vertx vertx, Clocks clocks, boolean stream, Expiry expiry) {
        this.vertx = vertx;
        this.clocks = clocks;
        this.stream = stream;
        this.expiry = expiry;
    }

    /** The attempt starts now: the total clock runs. */
    void start(long nowNanos) {
        totalDeadlineNanos = nowNanos + clocks.totalMs() * 1_000_000;
        long shortest = Math.min(clocks.totalMs(), Math.min(clocks.firstTokenMs(), clocks.idleMs()));
        arm(nowNanos + Math.max(1, shortest) * 1_000_000);
    }

    /** The request was sent: the first-token clock runs. */
    void firstToken() {
        run(clocks.firstTokenMs(), false);
    }

    /** The first event (or a non-stream head) arrived: the idle clock runs from now. */
    void idle() {
        run(clocks.idleMs(), true);
    }

    /** Something arrived: the idle clock starts over (without touching the timer). */
    void event() {
        lastEventNanos = System.nanoTime();
    }

    /** The upstream is paused while the client cannot keep up: the idle clock is suspended meanwhile. */
    void paused(boolean paused) {
        this.paused = paused;
        if (!paused) {
            event();
        }
    }

    void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private void run(long timeoutMs, boolean idleClock) {
        long now = System.nanoTime();
        lastEventNanos = now;
        clockStartNanos = now;
        clockMs = Math.max(1, timeoutMs);
        idle = idleClock;
        long due = now + clockMs * 1_000_000;
        if (timer < 0 || due - timerDueNanos < 0) {
            arm(due);
        }
    }

    private void arm(long dueNanos) {
        stop();
        timerDueNanos = dueNanos;
        long delayMs = Math.max(1, (dueNanos - System.nanoTime() + 999_999) / 1_000_000);
        timer = vertx.setTimer(delayMs, id -> onTimer());
    }

    private void onTimer() {
        timer = -1;
        long now = System.nanoTime();
        if (now - totalDeadlineNanos >= 0) {
            if (stream && idle) {
                // Tokens were flowing (the idle clock would have caught a silent backend): the answer is just long.
                expiry.expired(AttemptOutcome.REQUEST_TIME_LIMIT, "the answer was still streaming after the total"
                        + " clock of " + clocks.totalMs() + " ms");
            } else {
                expiry.expired(AttemptOutcome.TOTAL_TIMEOUT, "no complete answer within " + clocks.totalMs() + " ms");
            }
            return;
        }
        long due = totalDeadlineNanos;
        if (clockMs >= 0 && !idle) {
            long clockDue = clockStartNanos + clockMs * 1_000_000;
            if (now - clockDue >= 0) {
                expiry.expired(AttemptOutcome.FIRST_TOKEN_TIMEOUT, stream
                        ? "no first token within " + clockMs + " ms"
                        : "no answer within " + clockMs + " ms");
                return;
            }
            due = Math.min(due, clockDue);
        } else if (clockMs >= 0) {
            long silentMs = (now - lastEventNanos) / 1_000_000;
            if (!paused && silentMs >= clockMs) {
                expiry.expired(AttemptOutcome.IDLE_TIMEOUT, "silent for " + silentMs + " ms mid-response");
                return;
            }
            due = Math.min(due, (paused ? now : lastEventNanos) + clockMs * 1_000_000);
        }
        arm(due);
    }
}

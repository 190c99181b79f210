package org.canonic.gateway.api;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * The clocks of one client connection once its first request has arrived, as the first handler of its Netty pipeline
 * (it sees raw bytes, before TLS and HTTP decoding). Vert.x's own idle timeout counts reads and writes, so it cannot
 * tell a long generation (a non-stream request that waits minutes in silence) from an abandoned connection, and it
 * cannot cut a head sent one byte every few seconds. This clock knows whether a request is in flight:
 * <ul>
 *   <li>request in flight: no connection clock at all; the request's own clocks govern (body read timeout, backend
 *       clocks, keep-alive comments, the client leaving);</li>
 *   <li>no request in flight, nothing received since the last one ended: the idle timeout;</li>
 *   <li>no request in flight, bytes of the next head received: the header timeout, counted from its first byte.</li>
 * </ul>
 * When the clock runs out the connection is closed (there is no request to answer). Before the first request, the
 * server's write-idle timeout (set to the header timeout by {@link ServerTimeouts}) plays the header clock's part.
 *
 * <p>Everything happens on the connection's event loop: Netty calls, and the request start and end that
 * {@link ConnectionGuard} reports, so no field needs a lock. One timer at a time, re-checked when it fires rather than
 * re-armed per request.
 */
final class ConnectionClock extends ChannelInboundHandlerAdapter {

    private final long headerTimeoutNanos;
    private final long idleTimeoutNanos;

    private ChannelHandlerContext ctx;
    private int inFlight;
    private boolean headStarted;
    /** Whether a deadline applies (no request in flight), and when it falls (System.nanoTime()). */
    private boolean armed;
    private long deadline;
    private ScheduledFuture<?> timer;
    private long timerAt;

    ConnectionClock(long headerTimeoutNanos, long idleTimeoutNanos) {
        this.headerTimeoutNanos = headerTimeoutNanos;
        this.idleTimeoutNanos = idleTimeoutNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (inFlight == 0 && !headStarted) {
            headStarted = true;
            arm(headerTimeoutNanos);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    /** A request's head was parsed: its own clocks take over. */
    void requestStarted() {
        inFlight++;
        armed = false;
    }

    /** A request's response ended (or failed): the connection is idle again if nothing else is in flight. */
    void requestEnded() {
        if (inFlight > 0 && --inFlight == 0) {
            headStarted = false;
            arm(idleTimeoutNanos);
        }
    }

    private void arm(long timeoutNanos) {
        armed = true;
        deadline = System.nanoTime() + timeoutNanos;
        if (timer != null && timerAt - deadline <= 0) {
            return; // it fires first and re-checks
        }
        if (timer != null) {
            timer.cancel(false);
        }
        schedule(deadline);
    }

    private void schedule(long at) {
        timerAt = at;
        timer = ctx.executor().schedule(this::check, Math.max(1, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void check() {
        timer = null;
        if (!armed || !ctx.channel().isActive()) {
            return;
        }
        if (System.nanoTime() - deadline >= 0) {
            ctx.close();
        } else {
            schedule(deadline);
        }
    }
}

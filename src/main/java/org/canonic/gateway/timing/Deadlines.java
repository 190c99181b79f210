package org.canonic.gateway.timing;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;

import java.util.concurrent.TimeUnit;

/**
 * Deadlines of one fixed length (a request body's read limit, a non-stream request's total), set and cancelled by
 * the thousand per second and almost never reached.
 *
 * <p>A Vert.x timer per deadline costs a task on the event loop's priority queue, a map entry and a handler on both
 * setting and cancelling it (measured at ~2 us of the gateway's ~60 us of CPU per non-stream request, for three
 * timers). Deadlines of one length expire in the order they were set, so each event loop keeps them in a linked list
 * in that order: setting one appends it, cancelling one unlinks it, and the loop needs one scheduled task only, for
 * the oldest. When that task runs it ends the deadlines that are due and schedules itself for the next, so a loop
 * whose requests all finish in time runs it about once per length.
 *
 * <p>A deadline's handler runs on the context that set it, at or after its due time. Set off an event loop (a worker
 * thread, a test), a deadline falls back to a Vert.x timer of its own.
 */
public final class Deadlines {

    private final Vertx vertx;
    private final long lengthMs;
    private final long lengthNanos;
    private final FastThreadLocal<Lane> lanes = new FastThreadLocal<>() {
        @Override
        protected Lane initialValue() {
            return new Lane();
        }
    };

    /**
     * @param lengthMs how long after being set a deadline is reached (at least 1 ms)
     */
    public Deadlines(Vertx vertx, long lengthMs) {
        if (lengthMs < 1) {
            throw new IllegalArgumentException("a deadline's length must be at least 1 ms, not " + lengthMs);
        }
        this.vertx = vertx;
        this.lengthMs = lengthMs;
        this.lengthNanos = TimeUnit.MILLISECONDS.toNanos(lengthMs);
    }

    public long lengthMs() {
        return lengthMs;
    }

    /** A deadline, reached {@link #lengthMs()} from now unless cancelled before; its handler runs at most once. */
    public Deadline start(Handler<Void> onReached) {
        Context current = Vertx.currentContext();
        if (current instanceof ContextInternal context && context.isEventLoopContext()
                && context.nettyEventLoop().inEventLoop()) {
            Lane lane = lanes.get();
            return lane.append(new Deadline(lane, context, onReached, System.nanoTime() + lengthNanos));
        }
        Deadline own = new Deadline(null, null, onReached, 0);
        own.vertx = vertx;
        own.timer = vertx.setTimer(lengthMs, id -> own.reach());
        return own;
    }

    /** The deadlines one event loop has set, oldest (so earliest due) first. Touched by that loop's thread only. */
    private final class Lane {
        private Deadline head;
        private Deadline tail;
        /** The loop's one scheduled task for this lane, pending. */
        private boolean scheduled;
        private EventLoop loop;

        Deadline append(Deadline deadline) {
            if (tail == null) {
                head = deadline;
            } else {
                tail.next = deadline;
                deadline.previous = tail;
            }
            tail = deadline;
            if (!scheduled) {
                loop = deadline.context.nettyEventLoop();
                schedule(deadline.dueNanos);
            }
            return deadline;
        }

        void unlink(Deadline deadline) {
            if (deadline.previous == null) {
                head = deadline.next;
            } else {
                deadline.previous.next = deadline.next;
            }
            if (deadline.next == null) {
                tail = deadline.previous;
            } else {
                deadline.next.previous = deadline.previous;
            }
            deadline.previous = null;
            deadline.next = null;
        }

        private void schedule(long dueNanos) {
            scheduled = true;
            loop.schedule(this::run, Math.max(0, dueNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        }

        /** Ends every deadline that is due, then waits for the oldest left (set later, so due no earlier). */
        private void run() {
            scheduled = false;
            long now = System.nanoTime();
            while (head != null && now - head.dueNanos >= 0) {
                Deadline due = head;
                unlink(due);
                due.reach();
            }
            if (head != null && !scheduled) {
                schedule(head.dueNanos);
            }
        }
    }

    /** One deadline; cancel it when what it bounds is done (from any thread). */
    public static final class Deadline {
        private final Lane lane;
        private final ContextInternal context;
        private Handler<Void> onReached;
        private final long dueNanos;
        private Deadline previous;
        private Deadline next;
        /** Set off an event loop: the deadline's own Vert.x timer. */
        private Vertx vertx;
        private long timer = -1;

        private Deadline(Lane lane, ContextInternal context, Handler<Void> onReached, long dueNanos) {
            this.lane = lane;
            this.context = context;
            this.onReached = onReached;
            this.dueNanos = dueNanos;
        }

        /** The deadline will not be reached; its handler does not run. Does nothing when it already ran. */
        public void cancel() {
            if (lane == null) {
                vertx.cancelTimer(timer);
                onReached = null;
                return;
            }
            if (context.nettyEventLoop().inEventLoop()) {
                drop();
            } else {
                context.nettyEventLoop().execute(this::drop);
            }
        }

        private void drop() {
            if (onReached != null) {
                onReached = null;
                lane.unlink(this);
            }
        }

        private void reach() {
            Handler<Void> handler = onReached;
            if (handler == null) {
                return;
            }
            onReached = null;
            if (context == null) {
                handler.handle(null);
            } else {
                // On the context that set it (the request's), with its exceptions reported as the context's.
                context.emit(null, handler);
            }
        }
    }
}

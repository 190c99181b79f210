package org.canonic.gateway.simulator;

import org.jboss.logging.Logger;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One simulated GPU running one model: a {@link BatchScheduler} driven in real time by a thread of its own. Each step
 * is planned, lasts what {@link StepCost} says for its batch, and only then delivers its tokens, so a client sees
 * queueing, prefill and batching in its time to first token and its token pace. The thread sleeps, not spins,
 * between and during steps; arrivals and aborts reach it through a queue and wake it. Aborts are applied as soon as
 * they arrive, mid-step included, so a request whose client left frees its blocks at once.
 */
final class SimulatedGpu implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SimulatedGpu.class);

    private final StepCost cost;
    private final BatchScheduler scheduler;
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile EngineStats stats;

    SimulatedGpu(String name, StepCost cost, int kvBlocks, int maxNumSeqs, int maxBatchedTokens) {
        this.cost = cost;
        this.scheduler = new BatchScheduler(kvBlocks, maxNumSeqs, maxBatchedTokens);
        this.stats = scheduler.stats();
        this.thread = new Thread(this::run, "simulated-gpu-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a request: it waits for admission like any other. */
    void submit(Sequence sequence) {
        send(() -> scheduler.add(sequence));
    }

    /** Takes a request out of the engine wherever it stands; nothing more is emitted for it. */
    void abort(Sequence sequence) {
        send(() -> scheduler.abort(sequence));
    }

    /** The gauges and counters as of the last change; readable from any thread. */
    EngineStats stats() {
        return stats;
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(Runnable command) {
        inbox.add(command);
        LockSupport.unpark(thread);
    }

    private void run() {
        while (!closed) {
            try {
                step();
            } catch (RuntimeException e) {
                // A bug here must not silently stop every request of this GPU forever: say so and go on.
                LOG.errorf(e, "simulated GPU step failed");
            }
        }
    }

    private void step() {
        applyInbox();
        if (scheduler.idle()) {
            LockSupport.park(this);
            return;
        }
        BatchScheduler.Step step = scheduler.plan();
        stats = scheduler.stats();
        // An empty plan (nothing admissible yet) still costs a step's overhead, so the loop idles instead of spinning.
        sleepUntil(System.nanoTime() + cost.nanos(step.prefillTokens(), step.decodeTokens()));
        List<BatchScheduler.Emission> emissions = scheduler.complete(step);
        stats = scheduler.stats();
        for (BatchScheduler.Emission emission : emissions) {
            emission.sequence().sink.emit(emission.token(), emission.finished());
        }
    }

    private void sleepUntil(long deadline) {
        for (long left = deadline - System.nanoTime(); left > 0 && !closed; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(this, left);
            applyInbox();
        }
    }

    private void applyInbox() {
        boolean changed = false;
        for (Runnable command = inbox.poll(); command != null; command = inbox.poll()) {
            command.run();
            changed = true;
        }
        if (changed) {
            stats = scheduler.stats();
        }
    }
}

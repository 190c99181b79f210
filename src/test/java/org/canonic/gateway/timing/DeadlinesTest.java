package org.canonic.gateway.timing;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.impl.ContextInternal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deadlines on a real Vert.x event loop: reached on time and on the setter's context, or never once cancelled. */
class DeadlinesTest {

    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Runs on a fresh duplicated context of one event loop, as a request's handler does. */
    private static <T> T onRequestContext(Context loop, Supplier<T> action) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        ContextInternal request = ((ContextInternal) loop).duplicate();
        request.runOnContext(v -> {
            try {
                result.complete(action.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        return result.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aDeadlineIsReachedNoEarlierThanItsLengthOnTheContextThatSetIt() throws Exception {
        Deadlines deadlines = new Deadlines(vertx, 150);
        Context loop = vertx.getOrCreateContext();
        CompletableFuture<Context> reachedOn = new CompletableFuture<>();
        long[] setAt = new long[1];
        Context setter = onRequestContext(loop, () -> {
            setAt[0] = System.nanoTime();
            deadlines.start(v -> reachedOn.complete(Vertx.currentContext()));
            return Vertx.currentContext();
        });
        Context reached = reachedOn.get(5, TimeUnit.SECONDS);
        long afterMs = (System.nanoTime() - setAt[0]) / 1_000_000;
        assertSame(setter, reached, "the handler runs on the (request's) context that set the deadline");
        assertTrue(afterMs >= 150, "reached after " + afterMs + " ms, before its length of 150 ms");
        assertTrue(afterMs < 2_000, "reached only after " + afterMs + " ms");
    }

    @Test
    void cancelledDeadlinesAreNeverReachedWhileTheOthersAreInOrder() throws Exception {
        Deadlines deadlines = new Deadlines(vertx, 100);
        Context loop = vertx.getOrCreateContext();
        List<Integer> reached = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch kept = new CountDownLatch(3);
        onRequestContext(loop, () -> {
            List<Deadlines.Deadline> all = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                int n = i;
                all.add(deadlines.start(v -> {
                    reached.add(n);
                    kept.countDown();
                }));
            }
            // Keep the first, one in the middle and the last; cancel the others (head, tail and interior unlinks).
            for (int i = 0; i < all.size(); i++) {
                if (i != 0 && i != 500 && i != 999) {
                    all.get(i).cancel();
                }
            }
            return null;
        });
        assertTrue(kept.await(5, TimeUnit.SECONDS), "reached: " + reached);
        Thread.sleep(250); // a cancelled one reached late would show here
        assertEquals(List.of(0, 500, 999), reached);
    }

    @Test
    void cancellingTheOldestLetsTheNextBeReachedOnItsOwnTime() throws Exception {
        Deadlines deadlines = new Deadlines(vertx, 200);
        Context loop = vertx.getOrCreateContext();
        CompletableFuture<Long> second = new CompletableFuture<>();
        long[] secondSetAt = new long[1];
        Deadlines.Deadline first = onRequestContext(loop, () -> deadlines.start(v -> second.completeExceptionally(
                new AssertionError("the cancelled deadline was reached"))));
        Thread.sleep(100);
        onRequestContext(loop, () -> {
            secondSetAt[0] = System.nanoTime();
            return deadlines.start(v -> second.complete(System.nanoTime()));
        });
        onRequestContext(loop, () -> {
            first.cancel();
            return null;
        });
        long afterMs = (second.get(5, TimeUnit.SECONDS) - secondSetAt[0]) / 1_000_000;
        assertTrue(afterMs >= 200, "the second deadline was reached " + afterMs + " ms after it was set");
    }

    @Test
    void aDeadlineCancelledFromAnotherThreadIsNotReached() throws Exception {
        Deadlines deadlines = new Deadlines(vertx, 100);
        Context loop = vertx.getOrCreateContext();
        CompletableFuture<Void> control = new CompletableFuture<>();
        List<String> reached = Collections.synchronizedList(new ArrayList<>());
        Deadlines.Deadline cancelled = onRequestContext(loop, () -> {
            Deadlines.Deadline d = deadlines.start(v -> reached.add("cancelled"));
            deadlines.start(v -> control.complete(null));
            return d;
        });
        cancelled.cancel(); // from the test's thread
        control.get(5, TimeUnit.SECONDS);
        Thread.sleep(50);
        assertEquals(List.of(), reached);
    }

    @Test
    void aDeadlineSetWhileOthersAreReachedIsReachedOnItsOwnTime() throws Exception {
        Deadlines deadlines = new Deadlines(vertx, 80);
        Context loop = vertx.getOrCreateContext();
        CompletableFuture<Long> chained = new CompletableFuture<>();
        long[] chainedSetAt = new long[1];
        onRequestContext(loop, () -> deadlines.start(v -> {
            chainedSetAt[0] = System.nanoTime();
            deadlines.start(w -> chained.complete(System.nanoTime()));
        }));
        long afterMs = (chained.get(5, TimeUnit.SECONDS) - chainedSetAt[0]) / 1_000_000;
        assertTrue(afterMs >= 80, "a deadline set from a reached one's handler came " + afterMs + " ms later");
    }

    @Test
    void offAnEventLoopADeadlineHasItsOwnTimer() throws Exception {
        Deadlines deadlines = new Deadlines(vertx, 50);
        CompletableFuture<Void> reached = new CompletableFuture<>();
        List<String> cancelledReached = Collections.synchronizedList(new ArrayList<>());
        deadlines.start(v -> cancelledReached.add("reached")).cancel();
        deadlines.start(v -> reached.complete(null));
        reached.get(5, TimeUnit.SECONDS);
        Thread.sleep(100);
        assertEquals(List.of(), cancelledReached);
    }

    @Test
    void aLengthBelowOneMillisecondIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Deadlines(vertx, 0));
    }
}

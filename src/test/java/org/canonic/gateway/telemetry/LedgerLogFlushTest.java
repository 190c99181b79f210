package org.canonic.gateway.telemetry;

import org.jboss.logmanager.ExtHandler;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ledger's log lines reach every handler, but a handler that flushes per record is flushed once per batch
 * while the ledger writes (one write(2) per request was a measurable share of the gateway's CPU), and gets its
 * per-record flush back afterwards.
 */
class LedgerLogFlushTest {

    /** A handler that flushes per record unless told otherwise, counting both. */
    static class CountingHandler extends ExtHandler {
        final AtomicInteger published = new AtomicInteger();
        final AtomicInteger flushes = new AtomicInteger();

        @Override
        protected void doPublish(ExtLogRecord record) {
            if ("gateway.ledger".equals(record.getLoggerName())) {
                published.incrementAndGet();
            }
            super.doPublish(record); // flushes when auto-flush is on
        }

        @Override
        public void flush() {
            flushes.incrementAndGet();
        }
    }

    /** Writes {@code n} records through a ledger with {@code handler} on its log category; waits until written. */
    private static void writeThrough(CountingHandler handler, int n) throws Exception {
        Logger ledgerLogger = Logger.getLogger("gateway.ledger");
        Level before = ledgerLogger.getLevel();
        ledgerLogger.setLevel(Level.INFO);
        ledgerLogger.addHandler(handler);
        try (Ledger ledger = new Ledger(Optional.empty(), 10_000, 1 << 20)) {
            for (int i = 0; i < n; i++) {
                assertTrue(ledger.offer(LedgerWriterTest.closed("flush-" + i)));
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (ledger.written() < n && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(n, ledger.written());
        } finally {
            ledgerLogger.removeHandler(handler);
            ledgerLogger.setLevel(before);
        }
    }

    @Test
    void everyLineIsLoggedWithOneFlushPerBatchAndTheHandlerFlushesPerRecordAgainAfterwards() throws Exception {
        CountingHandler handler = new CountingHandler();
        handler.setAutoFlush(true);
        int n = 500;
        writeThrough(handler, n);
        assertEquals(n, handler.published.get(), "every record's log line reached the handler");
        assertTrue(handler.flushes.get() <= 20, "flushed per batch, not per line: " + handler.flushes.get()
                + " flushes for " + n + " lines");
        assertTrue(handler.flushes.get() >= 1, "the batch was flushed");
        assertTrue(handler.isAutoFlush(), "the handler flushes per record again once the batch is written");
    }

    @Test
    void aHandlerConfiguredNotToFlushPerRecordKeepsItsSetting() throws Exception {
        CountingHandler handler = new CountingHandler();
        handler.setAutoFlush(false);
        writeThrough(handler, 1);
        assertEquals(1, handler.published.get());
        assertFalse(handler.isAutoFlush(), "a handler that did not flush per record is left as it was");
    }

    @Test
    void aHandlerThatRefusesTheChangeKeepsFlushingPerRecordAndLosesNothing() throws Exception {
        CountingHandler locked = new CountingHandler() {
            @Override
            public void setAutoFlush(boolean autoFlush) {
                if (!autoFlush) {
                    throw new SecurityException("settings locked by their owner");
                }
                super.setAutoFlush(true);
            }
        };
        locked.setAutoFlush(true);
        int flushedBefore = locked.flushes.get();
        int n = 50;
        writeThrough(locked, n);
        assertEquals(n, locked.published.get(), "every line reached the handler");
        assertEquals(n, locked.flushes.get() - flushedBefore, "flushed per record, as it was configured");
        assertTrue(locked.isAutoFlush());
    }
}

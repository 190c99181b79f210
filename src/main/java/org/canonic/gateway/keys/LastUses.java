package org.canonic.gateway.keys;

import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When each client key was last used, to the second: noted on the request path (mostly a read: the time is written
 * only when a second has passed), written to the {@link IssuedKeyStore} every {@value #FLUSH_MS} ms when it moved, so
 * replicas share it and it outlives a restart. A convenience: a write that fails is retried at the next flush.
 */
final class LastUses {

    private static final Logger LOG = Logger.getLogger(LastUses.class);
    /** Last-use times are written to the store at most this often. */
    static final long FLUSH_MS = 30_000;

    private final IssuedKeyStore store;
    private final Map<String, AtomicLong> seen = new ConcurrentHashMap<>();
    private final Map<String, Long> flushed = new HashMap<>();
    private long lastFlushMs = System.currentTimeMillis();

    LastUses(IssuedKeyStore store) {
        this.store = store;
    }

    void note(String keyId) {
        long now = System.currentTimeMillis();
        AtomicLong last = seen.get(keyId);
        if (last == null) {
            last = seen.computeIfAbsent(keyId, id -> new AtomicLong());
        }
        if (now - last.get() >= 1000) {
            last.set(now);
        }
    }

    void forget(String keyId) {
        seen.remove(keyId);
    }

    /** The times of every key, as the store and this replica know them (epoch ms). */
    Map<String, Long> all() {
        Map<String, Long> used = new HashMap<>(store.lastUsed());
        seen.forEach((id, ms) -> used.merge(id, ms.get(), Math::max));
        return used;
    }

    /** Flushes when {@value #FLUSH_MS} ms have passed since the last flush. */
    void flushIfDue() {
        long now = System.currentTimeMillis();
        synchronized (flushed) {
            if (now - lastFlushMs < FLUSH_MS) {
                return;
            }
            lastFlushMs = now;
        }
        flush();
    }

    /** Writes the times that moved since the last flush. */
    void flush() {
        Map<String, Long> moved = new HashMap<>();
        synchronized (flushed) {
            seen.forEach((id, ms) -> {
                long value = ms.get();
                if (value > flushed.getOrDefault(id, 0L)) {
                    moved.put(id, value);
                }
            });
            if (moved.isEmpty()) {
                return;
            }
            try {
                store.recordUse(moved);
                flushed.putAll(moved);
            } catch (RuntimeException e) {
                LOG.debugf("Last-use times of client keys not written: %s", e.toString());
            }
        }
    }
}

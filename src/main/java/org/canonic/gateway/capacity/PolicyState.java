package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** What the controller remembers of one policy between ticks (windows, cooldowns, the day's refusal). */
final class PolicyState {
    volatile long highSinceMs = -1;
    volatile long lowSinceMs = -1;
    volatile long lastChangeMs = -1;
    volatile long lastOutAttemptMs = -1;
    volatile LocalDate refusedDay;
    volatile int desired = -1;
    volatile Signal signal;
    /** When a request last found no backend serving the route (controller clock), or -1. */
    volatile long demandAtMs = -1;
    /** One decision at a time per policy: the tick and a request waking it never overlap. */
    final java.util.concurrent.locks.ReentrantLock deciding = new java.util.concurrent.locks.ReentrantLock();
    /** Until when a refusal to wake holds (wall clock, epoch ms), and the fleet's version it was made at. */
    volatile long wakeRefusedUntilMs = -1;
    volatile long wakeFleetVersion = -1;
    /** A follower's last read-only choice (a provider, or "" for none) and until when it holds (wall clock). */
    volatile String planned;
    volatile long plannedUntilMs = -1;
    /** When this replica last passed demand to the leader (wall clock): at most once a second. */
    volatile long passedAtMs = -1;
    final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CompletableFuture<java.util.OptionalLong>>
            wakeAsking = new java.util.concurrent.atomic.AtomicReference<>();
    final Set<String> startFailed = ConcurrentHashMap.newKeySet();
    /** Per backend, how many first tokens the TTFT signal had seen at the last look. */
    final java.util.Map<String, Long> ttftSeen = new ConcurrentHashMap<>();
    private final ArrayDeque<ObjectNode> decisions = new ArrayDeque<>();

    /** Keeps the decision; {@code unlessRepeated}: not again when the last one said the same. */
    synchronized void record(long nowMs, String action, String reason, boolean unlessRepeated) {
        ObjectNode last = decisions.peekLast();
        if (unlessRepeated && last != null && action.equals(last.path("action").asText())
                && reason.equals(last.path("reason").asText())) {
            return;
        }
        decisions.addLast(JsonNodeFactory.instance.objectNode()
                .put("time", java.time.Instant.ofEpochMilli(nowMs).toString())
                .put("action", action).put("reason", reason));
        while (decisions.size() > CapacityController.DECISIONS_KEPT) {
            decisions.removeFirst();
        }
    }

    synchronized ArrayNode decisions() {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        decisions.forEach(list::add);
        return list;
    }
}

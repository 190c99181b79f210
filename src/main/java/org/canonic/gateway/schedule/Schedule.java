package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.EventTypes;
import org.canonic.gateway.state.StateStoreUnavailable;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * The schedule registry: announced planned work on the fleet (maintenance, model swaps, reservations, capacity), kept
 * in a {@link ScheduleStore}, and a periodic tick that moves entries from planned to active when they start and to
 * ended when they end, announcing both ({@code schedule.started}, {@code schedule.ended}). A maintenance window of a
 * backend also drains it while active ({@link MaintenanceDrains}); every other entry is an announcement only.
 *
 * <p>With several replicas only the leader moves entries and announces the moves; each move is stored by compare and
 * set, so a leader that takes over does not announce a move again, and two replicas that both believe they lead (for
 * a moment, while one is cut off) announce it once. Events are published after the move is stored: at most once.
 */
public final class Schedule {

    private static final Logger LOG = Logger.getLogger(Schedule.class);

    private final ScheduleStore store;
    private final ScheduleSettings settings;
    private final Clock clock;
    private final BooleanSupplier leads;
    private final BiConsumer<String, Map<String, Object>> events;
    private final MaintenanceDrains drains;
    private final ScheduleBackends backends;
    private final AtomicBoolean ticking = new AtomicBoolean();
    private volatile boolean storeReachable = true;
    private volatile Vertx vertx;
    private long timer = -1;

    /**
     * @param leads  whether this replica leads the periodic jobs now ({@code Replicas::leader}; always with one)
     * @param events where events go ({@code Webhooks::publish}): never blocks, never throws
     */
    public Schedule(ScheduleStore store, ScheduleSettings settings, Clock clock, BooleanSupplier leads,
                    BiConsumer<String, Map<String, Object>> events, ScheduleBackends backends, AuditLog audit,
                    ObjectMapper mapper) {
        this.store = store;
        this.settings = settings;
        this.clock = clock;
        this.leads = leads;
        this.events = events;
        this.backends = backends;
        this.drains = new MaintenanceDrains(backends, audit, mapper);
    }

    public ScheduleSettings settings() {
        return settings;
    }

    public Instant now() {
        return clock.instant();
    }

    /** Whether a maintenance window of a backend may name {@code name}. */
    public boolean backendExists(String name) {
        return backends.exists(name);
    }

    /**
     * The entries whose window overlaps {@code [from, to)} (null bounds are open), of that target and kind when given,
     * sorted by {@code starts_at} (then id).
     */
    public List<ScheduleEntry> list(Instant from, Instant to, String target, ScheduleEntry.Kind kind) {
        return store.read().stream()
                .filter(entry -> entry.overlaps(from, to))
                .filter(entry -> target == null || entry.target().equals(target))
                .filter(entry -> kind == null || entry.kind() == kind)
                .sorted(Comparator.comparing(ScheduleEntry::startsAt).thenComparing(ScheduleEntry::id))
                .toList();
    }

    public Optional<ScheduleEntry> find(String id) {
        return store.read().stream().filter(entry -> entry.id().equals(id)).findFirst();
    }

    /**
     * Stores a new planned entry, refused (409) when {@code gateway.schedule.max-entries} entries are planned or
     * active already, or when it is a maintenance window overlapping another one of the same target. The check and
     * the write are one step of the store.
     */
    public ScheduleEntry create(ScheduleEntry entry) {
        ScheduleEntry created = store.update(entries -> {
            long live = entries.stream().filter(e -> e.state() != ScheduleEntry.State.ENDED).count();
            if (live >= settings.maxEntries()) {
                throw new ScheduleException(409, ScheduleException.FULL, null, "The schedule holds "
                        + settings.maxEntries() + " planned or active entries, the most it may "
                        + "(gateway.schedule.max-entries); delete one first.");
            }
            if (entry.kind() == ScheduleEntry.Kind.MAINTENANCE) {
                entries.stream().filter(other -> conflicts(entry, other)).findFirst().ifPresent(other -> {
                    throw new ScheduleException(409, ScheduleException.CONFLICT, "starts_at", "The maintenance window "
                            + other.id() + " of " + other.targetKind().json() + " " + other.target() + " ("
                            + other.startsAt() + " to " + other.endsAt() + ") overlaps this one.");
                });
            }
            return new ScheduleStore.Change<>(entry, List.of(entry), List.of());
        });
        LOG.infof("Schedule: %s %s of %s %s from %s to %s announced by %s", created.id(), created.kind().json(),
                created.targetKind().json(), created.target(), created.startsAt(), created.endsAt(),
                created.createdBy());
        events.accept(EventTypes.SCHEDULE_CREATED, created.eventData());
        return created;
    }

    private static boolean conflicts(ScheduleEntry entry, ScheduleEntry other) {
        return other.kind() == ScheduleEntry.Kind.MAINTENANCE && other.state() != ScheduleEntry.State.ENDED
                && other.targetKind() == entry.targetKind() && other.target().equals(entry.target())
                && other.overlaps(entry.startsAt(), entry.endsAt());
    }

    /**
     * Deletes an entry. An active one ends now: {@code schedule.ended}, then {@code schedule.deleted}, and what its
     * window drained on this replica is undrained before this returns (the other replicas follow on their next tick).
     *
     * @throws ScheduleException 404 when there is no such entry
     */
    public ScheduleEntry delete(String id) {
        ScheduleEntry deleted = store.update(entries -> {
            ScheduleEntry found = entries.stream().filter(e -> e.id().equals(id)).findFirst()
                    .orElseThrow(() -> notFound(id));
            return new ScheduleStore.Change<>(found, List.of(), List.of(id));
        });
        LOG.infof("Schedule: %s (%s, %s) deleted", deleted.id(), deleted.kind().json(), deleted.state().json());
        if (deleted.state() == ScheduleEntry.State.ACTIVE) {
            events.accept(EventTypes.SCHEDULE_ENDED, deleted.eventData());
        }
        events.accept(EventTypes.SCHEDULE_DELETED, deleted.eventData());
        drains.apply(store.read());
        return deleted;
    }

    public static ScheduleException notFound(String id) {
        String shown = id.length() > 64 ? id.substring(0, 64) + "..." : id;
        return new ScheduleException(404, ScheduleException.NOT_FOUND, "id", "No schedule entry has the id '"
                + ScheduleRequest.clean(shown, false) + "'.");
    }

    /** Starts the periodic tick on a worker thread ({@code gateway.schedule.tick}); a tick never overlaps itself. */
    public synchronized void start(Vertx vertx) {
        this.vertx = vertx;
        timer = vertx.setPeriodic(settings.tick().toMillis(), id -> nudge());
    }

    /** Runs a tick soon (after a change), unless one is running. */
    public void nudge() {
        Vertx on = vertx;
        if (on == null || !ticking.compareAndSet(false, true)) {
            return;
        }
        // Store calls block (file writes, Redis round trips): never on an event loop.
        on.executeBlocking(() -> {
            try {
                tick();
            } finally {
                ticking.set(false);
            }
            return null;
        }, false);
    }

    public synchronized void stop() {
        if (vertx != null && timer >= 0) {
            vertx.cancelTimer(timer);
        }
        timer = -1;
        vertx = null;
    }

    /** One tick: the leader moves entries whose time came; every replica then follows the active windows. */
    public void tick() {
        try {
            if (leads.getAsBoolean()) {
                advance(clock.instant());
            }
            drains.apply(store.read());
            if (!storeReachable) {
                LOG.infof("Schedule: %s answers again", store.where());
            }
            storeReachable = true;
        } catch (StateStoreUnavailable e) {
            if (storeReachable) {
                LOG.warnf("Schedule: the state store is unavailable; windows start and end once it is back (%s)",
                        e.getMessage());
            }
            storeReachable = false;
        } catch (RuntimeException e) {
            LOG.errorf("Schedule tick failed: %s", e.toString());
        }
    }

    /** A stored move of one entry, announced once it is stored. */
    private record Move(ScheduleEntry entry, List<String> events) {
    }

    /** Moves the entries whose time came (and prunes ended ones past the retention), in one compare-and-set. */
    void advance(Instant now) {
        List<Move> moves = store.update(entries -> {
            List<Move> decided = new ArrayList<>();
            List<ScheduleEntry> put = new ArrayList<>();
            List<String> delete = new ArrayList<>();
            Set<String> activeAfter = new HashSet<>();
            for (ScheduleEntry e : entries) {
                boolean started = e.state() == ScheduleEntry.State.PLANNED && !now.isBefore(e.startsAt());
                boolean over = e.state() != ScheduleEntry.State.ENDED && !now.isBefore(e.endsAt());
                if ((e.state() == ScheduleEntry.State.ACTIVE || started) && !over) {
                    activeAfter.add(e.id());
                }
            }
            for (ScheduleEntry e : entries) {
                if (e.state() == ScheduleEntry.State.PLANNED && !now.isBefore(e.startsAt())) {
                    boolean over = !now.isBefore(e.endsAt());
                    // A window that passed while no replica led (the gateway was down) is announced as both.
                    ScheduleEntry started = e.started(!over && e.drainsBackend()
                            && drains.wouldDrain(e.target(), activeAfter));
                    ScheduleEntry next = over ? started.withState(ScheduleEntry.State.ENDED) : started;
                    put.add(next);
                    decided.add(new Move(next, over ? List.of(EventTypes.SCHEDULE_STARTED, EventTypes.SCHEDULE_ENDED)
                            : List.of(EventTypes.SCHEDULE_STARTED)));
                } else if (e.state() == ScheduleEntry.State.ACTIVE && !now.isBefore(e.endsAt())) {
                    ScheduleEntry next = e.withState(ScheduleEntry.State.ENDED);
                    put.add(next);
                    decided.add(new Move(next, List.of(EventTypes.SCHEDULE_ENDED)));
                } else if (e.state() == ScheduleEntry.State.ENDED
                        && now.isAfter(e.endsAt().plus(settings.retention()))) {
                    delete.add(e.id());
                }
            }
            delete.addAll(overRetainedCount(entries, put, delete));
            return new ScheduleStore.Change<>(decided, put, delete);
        });
        for (Move move : moves) {
            ScheduleEntry e = move.entry();
            LOG.infof("Schedule: %s (%s of %s %s) %s", e.id(), e.kind().json(), e.targetKind().json(), e.target(),
                    e.state() == ScheduleEntry.State.ACTIVE ? "started" : "ended");
            move.events().forEach(type -> events.accept(type, e.eventData()));
        }
    }

    /**
     * Ended entries beyond {@code max-entries} of them, oldest first: a flood of short windows must not grow the
     * schedule without bound during the retention.
     */
    private List<String> overRetainedCount(List<ScheduleEntry> entries, List<ScheduleEntry> put,
                                           List<String> deleted) {
        Map<String, ScheduleEntry> after = new java.util.LinkedHashMap<>();
        entries.forEach(e -> after.put(e.id(), e));
        put.forEach(e -> after.put(e.id(), e));
        deleted.forEach(after::remove);
        List<ScheduleEntry> ended = after.values().stream().filter(e -> e.state() == ScheduleEntry.State.ENDED)
                .sorted(Comparator.comparing(ScheduleEntry::endsAt).thenComparing(ScheduleEntry::id)).toList();
        int excess = ended.size() - settings.maxEntries();
        return excess <= 0 ? List.of() : ended.subList(0, excess).stream().map(ScheduleEntry::id).toList();
    }

    /** Whether the window drained its backend on this replica (for tests and views). */
    public boolean drainedHere(String id) {
        return drains.drainedHere(id);
    }
}

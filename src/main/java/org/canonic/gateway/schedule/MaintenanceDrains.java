package org.canonic.gateway.schedule;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.CoordinationUnavailable;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Makes this replica's backends follow the active maintenance windows: a backend whose window is active is drained,
 * and undrained when the window ends or is deleted, but only if the window drained it here and it is still drained.
 * A backend an operator drained by hand before its window stays drained after it; one an operator undrained during
 * its window is not drained again.
 *
 * <p>Every replica runs this on what the store holds (drain state is per replica), the leader and the others alike;
 * only the leader changes the entries' states. What this replica decided for each window is kept in memory, as the
 * drain state itself is: after a restart, a window still active drains the backend again. The drain and the undrain
 * are audited with caller {@value #CALLER}.
 *
 * <p>A scheduled drain does not wait for the maintenance lock: the window was authorised, under the lock, when it was
 * created, and a maintenance window that waited for whoever holds the lock would start late exactly when maintenance
 * is going on.
 */
final class MaintenanceDrains {

    static final String CALLER = "schedule";
    static final String DRAIN = "schedule.drain";
    static final String UNDRAIN = "schedule.undrain";

    private static final Logger LOG = Logger.getLogger(MaintenanceDrains.class);

    /** A window this replica looked at: its backend, and whether the window drained it here. */
    private record Decision(String backend, boolean drained) {
    }

    private final ScheduleBackends backends;
    private final AuditLog audit;
    private final ObjectMapper mapper;
    private final Map<String, Decision> decided = new HashMap<>();

    MaintenanceDrains(ScheduleBackends backends, AuditLog audit, ObjectMapper mapper) {
        this.backends = backends;
        this.audit = audit;
        this.mapper = mapper;
    }

    /**
     * Whether a window of {@code backend} starting now would drain it: it exists, and it is not drained, or drained
     * only by a window that is not active any more (one ending in the same tick hands over, rather than leave the
     * next window to find the backend "already drained" and then undrain it under that window).
     */
    synchronized boolean wouldDrain(String backend, Set<String> activeIds) {
        if (!backends.exists(backend)) {
            return false;
        }
        if (!backends.drained(backend)) {
            return true;
        }
        return decided.entrySet().stream().anyMatch(d -> d.getValue().drained() && d.getValue().backend()
                .equals(backend) && !activeIds.contains(d.getKey()));
    }

    /** Whether the window drained its backend on this replica. */
    synchronized boolean drainedHere(String id) {
        Decision decision = decided.get(id);
        return decision != null && decision.drained();
    }

    /** Undrains what windows no longer active had drained, then drains for the windows that became active. */
    synchronized void apply(List<ScheduleEntry> entries) {
        Map<String, ScheduleEntry> active = entries.stream()
                .filter(e -> e.drainsBackend() && e.state() == ScheduleEntry.State.ACTIVE)
                .collect(Collectors.toMap(ScheduleEntry::id, e -> e));
        for (String id : List.copyOf(decided.keySet())) {
            if (!active.containsKey(id)) {
                Decision decision = decided.remove(id);
                if (decision.drained()) {
                    undrain(id, decision.backend());
                }
            }
        }
        for (ScheduleEntry entry : active.values()) {
            if (!decided.containsKey(entry.id())) {
                decided.put(entry.id(), new Decision(entry.target(), drain(entry)));
            }
        }
    }

    private boolean drain(ScheduleEntry entry) {
        String backend = entry.target();
        if (!backends.exists(backend)) {
            LOG.warnf("Maintenance window %s: backend %s is not in the fleet here; nothing to drain", entry.id(),
                    backend);
            return false;
        }
        if (backends.drained(backend)) {
            LOG.infof("Maintenance window %s: backend %s was drained already; it stays as the operator left it",
                    entry.id(), backend);
            return false;
        }
        backends.drain(backend, "the backend is in the maintenance window " + entry.id() + " until "
                + entry.endsAt());
        LOG.infof("Maintenance window %s (%s) started: backend %s drained until %s", entry.id(), entry.holder(),
                backend, entry.endsAt());
        record(DRAIN, entry.id(), backend, false);
        return true;
    }

    private void undrain(String id, String backend) {
        if (!backends.exists(backend)) {
            LOG.infof("Maintenance window %s ended: backend %s has left the fleet meanwhile", id, backend);
            return;
        }
        if (!backends.drained(backend)) {
            LOG.infof("Maintenance window %s ended: backend %s is in service already", id, backend);
            return;
        }
        backends.undrain(backend);
        LOG.infof("Maintenance window %s ended: backend %s back in service", id, backend);
        record(UNDRAIN, id, backend, true);
    }

    /**
     * Audited after the fact: the window was authorised when it was created, and a drain already made is not undone
     * because the audit line could not be written (that is reported as an ERROR instead).
     */
    private void record(String action, String id, String backend, boolean drainedBefore) {
        ObjectNode before = mapper.createObjectNode().put("backend", backend).put("drained", drainedBefore);
        ObjectNode after = mapper.createObjectNode().put("backend", backend).put("drained", !drainedBefore)
                .put("schedule", id);
        try {
            audit.record(CALLER, action, backend, before, after, AuditLog.OK, null);
        } catch (CoordinationUnavailable e) {
            LOG.errorf("Maintenance window %s: %s of %s made but not audited: %s", id, action, backend,
                    e.getMessage());
        }
    }
}

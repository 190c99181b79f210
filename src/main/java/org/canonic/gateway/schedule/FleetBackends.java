package org.canonic.gateway.schedule;

import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.LiveBackend;

import java.time.Duration;
import java.util.Optional;

/** The fleet's backends as a maintenance window sees them: drained as an admin drain does, with the window's reason. */
public final class FleetBackends implements ScheduleBackends {

    private final Fleet fleet;
    private final long deadlineMs;

    public FleetBackends(Fleet fleet, Duration drainDeadline) {
        this.fleet = fleet;
        this.deadlineMs = drainDeadline.toMillis();
    }

    @Override
    public boolean exists(String name) {
        return live(name).isPresent();
    }

    @Override
    public boolean drained(String name) {
        return live(name).map(backend -> backend.drain() != LiveBackend.Drain.NONE).orElse(false);
    }

    @Override
    public void drain(String name, String reason) {
        // As POST /admin/backends/{name}/drain without a deadline: requests in flight finish within
        // gateway.drain-deadline; the reason is what a request still running at the deadline is told.
        live(name).ifPresent(backend -> backend.drain(deadlineMs, reason, () -> {
        }));
    }

    @Override
    public boolean undrain(String name) {
        return live(name).map(LiveBackend::undrain).orElse(false);
    }

    /** A backend in the fleet now; one deregistered and still draining out is not a target any more. */
    private Optional<LiveBackend> live(String name) {
        return Optional.ofNullable(fleet.snapshot().backends().get(name));
    }
}

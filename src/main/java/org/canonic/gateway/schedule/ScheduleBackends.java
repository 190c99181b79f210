package org.canonic.gateway.schedule;

/**
 * What a maintenance window does to this replica's backends: the fleet in the gateway ({@link FleetBackends}), a
 * map in unit tests. Drain state is each replica's own (an admin drain reaches only the replica it was sent to), so
 * every replica drains its own view of a backend while a window is active.
 */
public interface ScheduleBackends {

    /** Whether a backend of this name is configured or registered (not one leaving the fleet). */
    boolean exists(String name);

    /** Whether it is draining or drained. */
    boolean drained(String name);

    /** Stops new requests to it; those in flight finish (up to the drain deadline). */
    void drain(String name, String reason);

    /** Puts it back into service; false when it was not draining. */
    boolean undrain(String name);
}

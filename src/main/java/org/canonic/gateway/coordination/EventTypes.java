package org.canonic.gateway.coordination;

import java.util.List;

/**
 * The event types the gateway publishes through {@link Webhooks}. Receivers switch on these strings, so they are a
 * public contract: add new ones, never rename. Lifecycle events carry {@code fencing} (the lock's fencing number)
 * when the change was made under a maintenance lock.
 */
public final class EventTypes {

    public static final String BACKEND_REGISTERED = "backend.registered";
    public static final String BACKEND_CHANGED = "backend.changed";
    public static final String BACKEND_DEREGISTERED = "backend.deregistered";
    /** Data: {@code backend}, {@code from}, {@code to}, {@code reason}. */
    public static final String BACKEND_STATE_CHANGED = "backend.state_changed";
    public static final String BACKEND_BREAKER_OPENED = "backend.breaker_opened";
    public static final String BACKEND_BREAKER_CLOSED = "backend.breaker_closed";
    public static final String BACKEND_DRAIN_STARTED = "backend.drain_started";
    public static final String BACKEND_DRAIN_FINISHED = "backend.drain_finished";
    /** Data of the four lock events: {@code holder}, {@code reason}, {@code fencing}, {@code expires_at}. */
    public static final String LOCK_ACQUIRED = "lock.acquired";
    public static final String LOCK_RELEASED = "lock.released";
    public static final String LOCK_EXPIRED = "lock.expired";
    /** Also {@code forced_by}: the caller who forced the release. */
    public static final String LOCK_FORCED = "lock.forced";

    /** Governed compute; data: {@code instance}, {@code provider}, {@code provider_id}, {@code recipe}, more. */
    public static final String COMPUTE_PROVISIONED = "compute.provisioned";
    public static final String COMPUTE_READY = "compute.ready";
    public static final String COMPUTE_FAILED = "compute.failed";
    public static final String COMPUTE_STOPPED = "compute.stopped";
    public static final String COMPUTE_STARTED = "compute.started";
    public static final String COMPUTE_RECONFIGURED = "compute.reconfigured";
    public static final String COMPUTE_DESTROYED = "compute.destroyed";
    /**
     * A serving or stopped instance the provider stopped (outbid, out of credit), failed (its container exited) or
     * removed, or a serving one that stopped answering its probes; data: {@code reason}, {@code kind} ({@code stopped},
     * {@code failed}, {@code gone}, {@code unresponsive}), {@code state}, {@code provider_status}, {@code spend_usd}.
     */
    public static final String COMPUTE_INTERRUPTED = "compute.interrupted";
    /** Data: {@code kind} (untracked, tracked_but_gone), {@code provider}, {@code provider_id}, more. */
    public static final String COMPUTE_LEAK_FOUND = "compute.leak_found";
    /** Capacity policies; data: {@code recipe}, {@code provider}, {@code reason}, and the instance acted on. */
    public static final String COMPUTE_SCALE_OUT = "compute.scale_out";
    public static final String COMPUTE_SCALE_IN = "compute.scale_in";
    /** A scale-out the cost guard would not admit without a human; also {@code refusal}. Once per UTC day. */
    public static final String COMPUTE_SCALE_REFUSED = "compute.scale_refused";
    /**
     * An instance a capacity policy still needed was interrupted and a replacement launched; data: {@code recipe},
     * {@code instance} (the new one), {@code replaces}, {@code provider}, {@code reason}.
     */
    public static final String COMPUTE_REPLACED = "compute.replaced";

    /**
     * The schedule registry; data of all four: {@code id}, {@code kind}, {@code target_kind}, {@code target},
     * {@code starts_at}, {@code ends_at}, {@code holder}. An active entry that is deleted ends first.
     */
    public static final String SCHEDULE_CREATED = "schedule.created";
    public static final String SCHEDULE_DELETED = "schedule.deleted";
    public static final String SCHEDULE_STARTED = "schedule.started";
    public static final String SCHEDULE_ENDED = "schedule.ended";

    public static final List<String> ALL = List.of(BACKEND_REGISTERED, BACKEND_CHANGED, BACKEND_DEREGISTERED,
            BACKEND_STATE_CHANGED, BACKEND_BREAKER_OPENED, BACKEND_BREAKER_CLOSED, BACKEND_DRAIN_STARTED,
            BACKEND_DRAIN_FINISHED, LOCK_ACQUIRED, LOCK_RELEASED, LOCK_EXPIRED, LOCK_FORCED, COMPUTE_PROVISIONED, COMPUTE_READY,
            COMPUTE_FAILED, COMPUTE_STOPPED, COMPUTE_STARTED, COMPUTE_RECONFIGURED, COMPUTE_DESTROYED,
            COMPUTE_INTERRUPTED, COMPUTE_LEAK_FOUND, COMPUTE_SCALE_OUT, COMPUTE_SCALE_IN,
            COMPUTE_SCALE_REFUSED, COMPUTE_REPLACED, SCHEDULE_CREATED, SCHEDULE_DELETED, SCHEDULE_STARTED,
            SCHEDULE_ENDED);

    private EventTypes() {
    }
}

package org.canonic.gateway.coordination;

import java.time.Instant;

/**
 * A mutation (or an acquisition) refused because someone else holds the maintenance lock: HTTP 423 with
 * {@code Retry-After} = {@link #secondsLeft()}. Names the holder and the expiry so the caller knows whom to ask and
 * how long to wait; never carries the token.
 */
public final class Locked extends RuntimeException {

    public static final String CODE = "maintenance_locked";

    private final String holder;
    private final Instant expiresAt;
    private final long secondsLeft;

    public Locked(String holder, Instant expiresAt, long secondsLeft) {
        super("The gateway is locked for maintenance by '" + holder + "' until " + expiresAt + " (" + secondsLeft
                + " s left); changes need that lock's " + MaintenanceLock.TOKEN_HEADER + ", or wait for it to end.");
        this.holder = holder;
        this.expiresAt = expiresAt;
        this.secondsLeft = secondsLeft;
    }

    public String holder() {
        return holder;
    }

    public Instant expiresAt() {
        return expiresAt;
    }

    public long secondsLeft() {
        return secondsLeft;
    }
}

package org.canonic.gateway.compute;

import java.time.LocalDate;
import java.util.Optional;

/**
 * Daily spend accounting behind the cost guard's cap. Reservations are atomic: two provisions racing for the last
 * dollars of the cap cannot both get them. Every reservation is keyed by the instance it pays for, so whoever
 * settles it (this process after a restart, or the replica that leads) finds it by that name. Amounts are in cents.
 * {@link FileSpendLedger} (the state directory) for one gateway; {@link RedisSpendLedger} for several.
 */
public interface SpendLedger {

    /** A hold on part of one UTC day's cap, for the instance {@code id}. */
    record Reservation(String id, LocalDate day, long cents) {
    }

    /** Reserves {@code cents} on {@code day} for {@code id} if what is committed plus it stays within the cap. */
    Optional<Reservation> reserve(String id, LocalDate day, long cents, long capCents);

    /** Reserves even beyond the cap (a confirmed estimate): it still counts. */
    Reservation reserveOver(String id, LocalDate day, long cents);

    /**
     * Replaces the open reservation of {@code reservation.id()} with what was really spent, once: a second call, or
     * one for an id with nothing open, changes nothing.
     */
    void settle(Reservation reservation, long actualCents);

    /** Drops a reservation whose launch did not happen. */
    default void release(Reservation reservation) {
        settle(reservation, 0);
    }

    /** The reservation still open for the instance {@code id}, as it was reserved. */
    Optional<Reservation> open(String id);

    /** Reserved plus settled on that day. */
    long committed(LocalDate day);
}

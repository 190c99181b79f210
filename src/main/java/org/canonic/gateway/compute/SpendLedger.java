package org.canonic.gateway.compute;

import java.time.LocalDate;
import java.util.Optional;

/**
 * Daily spend accounting behind the cost guard's cap. Reservations are atomic: two provisions racing for the last
 * dollars of the cap cannot both get them. Amounts are in cents. An in-process implementation for one gateway; a
 * shared one (Redis) can replace it for several.
 */
public interface SpendLedger {

    /** A hold on part of one UTC day's cap. */
    record Reservation(String id, LocalDate day, long cents) {
    }

    /** Reserves {@code cents} on {@code day} if what is committed plus it stays within {@code capCents}. */
    Optional<Reservation> reserve(LocalDate day, long cents, long capCents);

    /** Reserves even beyond the cap (a confirmed estimate): it still counts. */
    Reservation reserveOver(LocalDate day, long cents);

    /** Replaces a reservation with what was really spent. */
    void settle(Reservation reservation, long actualCents);

    /** Drops a reservation whose launch did not happen. */
    void release(Reservation reservation);

    /** Reserved plus settled on that day. */
    long committed(LocalDate day);
}

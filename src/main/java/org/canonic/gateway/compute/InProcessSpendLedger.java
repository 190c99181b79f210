package org.canonic.gateway.compute;

import java.time.LocalDate;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** {@link SpendLedger} in this process's memory; one monitor makes check-and-reserve a single step. */
public final class InProcessSpendLedger implements SpendLedger {

    private final Map<LocalDate, Long> committed = new HashMap<>();
    private final Map<String, Reservation> open = new HashMap<>();

    @Override
    public synchronized Optional<Reservation> reserve(LocalDate day, long cents, long capCents) {
        long now = committed.getOrDefault(day, 0L);
        if (now + cents > capCents) {
            return Optional.empty();
        }
        return Optional.of(add(day, cents));
    }

    @Override
    public synchronized Reservation reserveOver(LocalDate day, long cents) {
        return add(day, cents);
    }

    @Override
    public synchronized void settle(Reservation reservation, long actualCents) {
        if (open.remove(reservation.id()) != null) {
            committed.merge(reservation.day(), actualCents - reservation.cents(), Long::sum);
        }
    }

    @Override
    public synchronized void release(Reservation reservation) {
        settle(reservation, 0);
    }

    @Override
    public synchronized long committed(LocalDate day) {
        return committed.getOrDefault(day, 0L);
    }

    private Reservation add(LocalDate day, long cents) {
        Reservation reservation = new Reservation(UUID.randomUUID().toString(), day, cents);
        open.put(reservation.id(), reservation);
        committed.merge(day, cents, Long::sum);
        return reservation;
    }
}

package org.canonic.gateway.compute;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.StateStore;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link SpendLedger} shared by every replica: one integer of cents per UTC day ({@code <prefix>:spend:<date>},
 * kept three days), so there is no floating-point drift. The check against the cap and the reservation are one Lua
 * step on the server: two replicas racing for the last dollars cannot both get them. Open reservations are this
 * replica's (it settles what it launched).
 */
public final class RedisSpendLedger implements SpendLedger {

    private static final long KEEP_SECONDS = 3 * 86_400;
    /** Adds ARGV[1] cents if the day's total stays within ARGV[2] (or unconditionally when ARGV[2] is empty). */
    private static final String RESERVE = """
            local now = tonumber(redis.call('GET', KEYS[1]) or '0')
            local cents = tonumber(ARGV[1])
            if ARGV[2] ~= '' and now + cents > tonumber(ARGV[2]) then
              return -1
            end
            local total = redis.call('INCRBY', KEYS[1], cents)
            redis.call('EXPIRE', KEYS[1], ARGV[3])
            return total
            """;

    private final StateStore store;
    private final Map<String, Reservation> open = new ConcurrentHashMap<>();

    public RedisSpendLedger(StateStore store) {
        this.store = store;
    }

    @Override
    public Optional<Reservation> reserve(LocalDate day, long cents, long capCents) {
        return add(day, cents, Long.toString(capCents));
    }

    @Override
    public Reservation reserveOver(LocalDate day, long cents) {
        return add(day, cents, "").orElseThrow();
    }

    @Override
    public void settle(Reservation reservation, long actualCents) {
        // Removed first: a reservation is settled once, even if two callers race.
        if (open.remove(reservation.id()) != null) {
            store.eval(RESERVE, List.of(key(reservation.day())), actualCents - reservation.cents(), "", KEEP_SECONDS);
        }
    }

    @Override
    public void release(Reservation reservation) {
        settle(reservation, 0);
    }

    @Override
    public long committed(LocalDate day) {
        Response cents = store.call(Command.GET, key(day));
        return cents == null ? 0 : cents.toLong();
    }

    private Optional<Reservation> add(LocalDate day, long cents, String cap) {
        long total = store.eval(RESERVE, List.of(key(day)), cents, cap, KEEP_SECONDS).toLong();
        if (total < 0) {
            return Optional.empty();
        }
        Reservation reservation = new Reservation(UUID.randomUUID().toString(), day, cents);
        open.put(reservation.id(), reservation);
        return Optional.of(reservation);
    }

    private String key(LocalDate day) {
        return store.key("spend:" + day);
    }
}

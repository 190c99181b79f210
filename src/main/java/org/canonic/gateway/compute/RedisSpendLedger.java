package org.canonic.gateway.compute;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.StateStore;

import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

/**
 * {@link SpendLedger} shared by every replica: one integer of cents per UTC day ({@code <prefix>:spend:<date>},
 * kept a week), so there is no floating-point drift, and the open reservations in one hash
 * ({@code <prefix>:spend-open}, instance to {@code <date>|<cents>}), so that a replica that restarted, or the leader
 * settling an instance another replica launched, finds them. The check against the cap and the reservation are one
 * Lua step on the server: two replicas racing for the last dollars cannot both get them; a settlement removes the
 * reservation in the same step, so it happens once.
 */
public final class RedisSpendLedger implements SpendLedger {

    private static final long KEEP_SECONDS = 7 * 86_400;
    /**
     * KEYS: the day's total, the open hash. ARGV: cents, cap (empty: none), expiry, instance. Adds the cents and
     * records the reservation if the day's total stays within the cap; -1 when it would not, -2 when the instance
     * already holds one.
     */
    private static final String RESERVE = """
            if redis.call('HEXISTS', KEYS[2], ARGV[4]) == 1 then
              return -2
            end
            local now = tonumber(redis.call('GET', KEYS[1]) or '0')
            local cents = tonumber(ARGV[1])
            if ARGV[2] ~= '' and now + cents > tonumber(ARGV[2]) then
              return -1
            end
            local total = redis.call('INCRBY', KEYS[1], cents)
            redis.call('EXPIRE', KEYS[1], ARGV[3])
            redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
            return total
            """;
    /**
     * KEYS: the reservation's day total, the open hash. ARGV: instance, the reservation as read, actual cents,
     * expiry. Replaces the reservation with the actual cents if it is still the one read; 0 when it was not.
     */
    private static final String SETTLE = """
            if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then
              return 0
            end
            redis.call('HDEL', KEYS[2], ARGV[1])
            local cents = tonumber(string.match(ARGV[2], '|(%d+)$'))
            redis.call('INCRBY', KEYS[1], tonumber(ARGV[3]) - cents)
            redis.call('EXPIRE', KEYS[1], ARGV[4])
            return 1
            """;

    private final StateStore store;

    public RedisSpendLedger(StateStore store) {
        this.store = store;
    }

    @Override
    public Optional<Reservation> reserve(String id, LocalDate day, long cents, long capCents) {
        return add(id, day, cents, Long.toString(capCents));
    }

    @Override
    public Reservation reserveOver(String id, LocalDate day, long cents) {
        return add(id, day, cents, "").orElseThrow();
    }

    @Override
    public void settle(Reservation reservation, long actualCents) {
        Response held = store.call(Command.HGET, openKey(), reservation.id());
        if (held == null) {
            return;
        }
        Reservation stored = parse(reservation.id(), held.toString());
        store.eval(SETTLE, List.of(key(stored.day()), openKey()), reservation.id(), held.toString(), actualCents,
                KEEP_SECONDS);
    }

    @Override
    public Optional<Reservation> open(String id) {
        Response held = store.call(Command.HGET, openKey(), id);
        return held == null ? Optional.empty() : Optional.of(parse(id, held.toString()));
    }

    @Override
    public long committed(LocalDate day) {
        Response cents = store.call(Command.GET, key(day));
        return cents == null ? 0 : cents.toLong();
    }

    private Optional<Reservation> add(String id, LocalDate day, long cents, String cap) {
        long total = store.eval(RESERVE, List.of(key(day), openKey()), cents, cap, KEEP_SECONDS, id,
                day + "|" + cents).toLong();
        if (total == -2) {
            throw new IllegalStateException("a reservation is already open for " + id);
        }
        return total < 0 ? Optional.empty() : Optional.of(new Reservation(id, day, cents));
    }

    private static Reservation parse(String id, String held) {
        int bar = held.indexOf('|');
        return new Reservation(id, LocalDate.parse(held.substring(0, bar)), Long.parseLong(held.substring(bar + 1)));
    }

    private String key(LocalDate day) {
        return store.key("spend:" + day);
    }

    private String openKey() {
        return store.key("spend-open");
    }
}

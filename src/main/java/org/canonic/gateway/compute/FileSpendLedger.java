package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.coordination.StateDirectory;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@link SpendLedger} of one gateway, kept in {@value #FILE} in the state directory so that a restart does not give
 * the day's cap back: {@code {"days":{"2026-11-22":2000},"open":{"<instance>":{"day":"2026-11-22","cents":80}}}}.
 * Replaced atomically after every change (like the lock file); one monitor makes check-and-reserve a single step.
 * A reservation that cannot be written is not made (the launch is refused); a settlement that cannot be written
 * stays in memory and goes out with the next write, because the instance is already gone by then.
 */
public final class FileSpendLedger implements SpendLedger {

    public static final String FILE = "spend-ledger.json";
    /** Days kept besides the newest: the cap is per UTC day, older totals only explain the past. */
    private static final int KEEP_DAYS = 7;
    private static final Logger LOG = Logger.getLogger(FileSpendLedger.class);

    private final StateDirectory state;
    private final ObjectMapper mapper;
    private final TreeMap<LocalDate, Long> committed = new TreeMap<>();
    private final Map<String, Reservation> open = new HashMap<>();

    /**
     * Reads the ledger; a missing file is a first start.
     *
     * @throws InvalidConfigurationException if the file exists but cannot be read: starting from $0 would hand the
     *                                       day's cap out a second time
     */
    public FileSpendLedger(StateDirectory state, ObjectMapper mapper) {
        this.state = state;
        this.mapper = mapper;
        try {
            Optional<byte[]> bytes = state.read(FILE);
            if (bytes.isPresent()) {
                JsonNode root = mapper.readTree(bytes.get());
                // Read as $0 spent, a damaged file would hand the day's cap out again: only the shape save() writes.
                if (root == null || !root.path("days").isObject() || !root.path("open").isObject()) {
                    throw new IllegalArgumentException("no \"days\" and \"open\" objects");
                }
                root.path("days").fields().forEachRemaining(e -> committed.put(LocalDate.parse(e.getKey()),
                        cents(e.getValue())));
                root.path("open").fields().forEachRemaining(e -> open.put(e.getKey(), new Reservation(e.getKey(),
                        LocalDate.parse(e.getValue().path("day").asText()), cents(e.getValue().path("cents")))));
            }
        } catch (IOException | RuntimeException e) {
            String why = e instanceof IllegalArgumentException && e.getMessage() != null ? e.getMessage()
                    : e.getClass().getSimpleName();
            throw new InvalidConfigurationException(List.of(state.resolve(FILE) + " cannot be read (" + why
                    + "); fix or restore it: " + state.restoreHint(FILE)
                    + ". Deleting it starts today's spend at $0 again, so only do that knowing what was launched today."));
        }
    }

    /** An amount as save() writes it: a whole number of cents that fits a long. */
    private static long cents(JsonNode value) {
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw new IllegalArgumentException("an amount that is not a whole number of cents");
        }
        return value.longValue();
    }

    @Override
    public synchronized Optional<Reservation> reserve(String id, LocalDate day, long cents, long capCents) {
        if (committed.getOrDefault(day, 0L) + cents > capCents) {
            return Optional.empty();
        }
        return Optional.of(add(id, day, cents));
    }

    @Override
    public synchronized Reservation reserveOver(String id, LocalDate day, long cents) {
        return add(id, day, cents);
    }

    @Override
    public synchronized void settle(Reservation reservation, long actualCents) {
        Reservation held = open.remove(reservation.id());
        if (held == null) {
            return;
        }
        committed.merge(held.day(), actualCents - held.cents(), Long::sum);
        try {
            save();
        } catch (IOException e) {
            LOG.errorf("Compute: %s could not be written after settling %s (kept in memory, written with the next"
                    + " change): %s", state.resolve(FILE), held.id(), e.toString());
        }
    }

    @Override
    public synchronized Optional<Reservation> open(String id) {
        return Optional.ofNullable(open.get(id));
    }

    @Override
    public synchronized long committed(LocalDate day) {
        return committed.getOrDefault(day, 0L);
    }

    private Reservation add(String id, LocalDate day, long cents) {
        if (open.containsKey(id)) {
            throw new IllegalStateException("a reservation is already open for " + id);
        }
        Reservation reservation = new Reservation(id, day, cents);
        open.put(id, reservation);
        committed.merge(day, cents, Long::sum);
        try {
            save();
        } catch (IOException e) {
            open.remove(id);
            committed.merge(day, -cents, Long::sum);
            LOG.errorf("Compute: %s cannot be written: %s", state.resolve(FILE), e.toString());
            throw new ComputeException(503, "state_unavailable", "The spend ledger cannot be written to the state"
                    + " directory, so nothing was reserved or launched; see the gateway log.");
        }
        return reservation;
    }

    private void save() throws IOException {
        LocalDate oldest = committed.isEmpty() ? null : committed.lastKey().minusDays(KEEP_DAYS);
        if (oldest != null) {
            committed.headMap(oldest).clear();
        }
        ObjectNode root = mapper.createObjectNode();
        ObjectNode days = root.putObject("days");
        committed.forEach((day, cents) -> days.put(day.toString(), cents));
        ObjectNode held = root.putObject("open");
        open.values().forEach(r -> held.putObject(r.id()).put("day", r.day().toString()).put("cents", r.cents()));
        state.writeAtomically(FILE, mapper.writeValueAsBytes(root));
    }
}

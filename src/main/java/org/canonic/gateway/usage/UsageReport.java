package org.canonic.gateway.usage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * One answer of the usage API: the aggregate's buckets within a period, summed per group, with their cost.
 *
 * <p>Cost. Each rented instance's spend over the period is counted in whole cents and shared among the (group, key)
 * pairs that used it in proportion to their weighted tokens (see {@link UsagePricing}), by largest remainder, so the
 * shares add up to the instance's spend to the cent. Grouped by day, each day's spend is shared among that day's
 * users. Spend of an instance in a period (or day) in which no tokens were used on it is reported as unattributed.
 * A static backend with a price costs weighted tokens x its price, unrounded.
 */
public final class UsageReport {

    private static final long DAY_MS = 86_400_000L;

    /** One row: its group's value (null for "none"), its counters and its cost. */
    public static final class Row {
        final String group;
        final UsageTally tally = new UsageTally();
        long instanceCents;
        double staticUsd;

        Row(String group) {
            this.group = group;
        }

        public String group() {
            return group;
        }

        public double costUsd() {
            return instanceCents / 100.0 + staticUsd;
        }
    }

    /** A rented instance's spend in the period and how much of it the report's users were given. */
    public record InstanceCost(String backend, long spendCents, long attributedCents) {
    }

    final long fromMs;
    final long toMs;
    final GroupBy groupBy;
    final UsagePricing pricing;
    final List<Row> rows = new ArrayList<>();
    final Row total = new Row(null);
    final List<InstanceCost> instances = new ArrayList<>();

    private UsageReport(long fromMs, long toMs, GroupBy groupBy, UsagePricing pricing) {
        this.fromMs = fromMs;
        this.toMs = toMs;
        this.groupBy = groupBy;
        this.pricing = pricing;
    }

    public List<Row> rows() {
        return rows;
    }

    public Row total() {
        return total;
    }

    public List<InstanceCost> instances() {
        return instances;
    }

    /**
     * The report over {@code [fromMs, toMs)} (whole UTC hours: the caller rounds), rows by {@code groupBy}; with
     * {@code onlyKey} non-null, only that key's usage and cost (its share computed among every key's usage).
     */
    public static UsageReport build(UsageCells book, long fromMs, long toMs, GroupBy groupBy, UsagePricing pricing,
                                    UsagePricing.InstanceSpend spend, String onlyKey) {
        UsageReport report = new UsageReport(fromMs, toMs, groupBy, pricing);
        Map<String, Row> byGroup = new HashMap<>();
        // Weighted tokens per sharing unit (backend, and day when grouped by day) and (group, key) pair.
        Map<Unit, Map<Share, Double>> weights = new TreeMap<>();
        boolean onlyOneKey = onlyKey != null;
        for (Map.Entry<UsageBook.Cell, UsageTally> entry : book.cells(fromMs, toMs)) {
            UsageBook.Cell cell = entry.getKey();
            UsageTally tally = entry.getValue();
            String group = groupBy.of(cell);
            double weighted;
            long input;
            long output;
            synchronized (tally) {
                input = tally.input();
                output = tally.output();
            }
            weighted = pricing.weighted(input, output);
            if (cell.backend() != null) {
                long day = groupBy == GroupBy.DAY ? Math.floorDiv(UsageBook.hourStartMs(cell.hour()), DAY_MS) : -1;
                weights.computeIfAbsent(new Unit(cell.backend(), day), u -> new TreeMap<>())
                        .merge(new Share(group, cell.key()), weighted, Double::sum);
            }
            if (onlyOneKey && !onlyKey.equals(cell.key())) {
                continue;
            }
            Row row = byGroup.computeIfAbsent(group, Row::new);
            row.tally.addAll(tally);
            OptionalDouble price = pricing.staticPrice(cell.backend());
            if (price.isPresent()) {
                row.staticUsd += weighted / 1e6 * price.getAsDouble();
            }
        }
        for (Map.Entry<Unit, Map<Share, Double>> unit : weights.entrySet()) {
            long from = unit.getKey().day < 0 ? fromMs : Math.max(fromMs, unit.getKey().day * DAY_MS);
            long to = unit.getKey().day < 0 ? toMs : Math.min(toMs, (unit.getKey().day + 1) * DAY_MS);
            OptionalDouble usd = spend.spendUsd(unit.getKey().backend, from, to);
            if (usd.isEmpty()) {
                continue;
            }
            long cents = Math.round(usd.getAsDouble() * 100);
            Map<Share, Long> shares = split(cents, unit.getValue());
            long attributed = 0;
            for (Map.Entry<Share, Long> share : shares.entrySet()) {
                attributed += share.getValue();
                if (onlyOneKey && !onlyKey.equals(share.getKey().key)) {
                    continue;
                }
                byGroup.computeIfAbsent(share.getKey().group, Row::new).instanceCents += share.getValue();
            }
            if (!onlyOneKey) {
                report.addInstance(unit.getKey().backend, cents, attributed);
            }
        }
        byGroup.values().stream().sorted(Comparator.comparing(Row::group, Comparator.nullsLast(String::compareTo)))
                .forEach(row -> {
                    report.rows.add(row);
                    report.total.tally.addAll(row.tally);
                    report.total.instanceCents += row.instanceCents;
                    report.total.staticUsd += row.staticUsd;
                });
        return report;
    }

    /** Instances are listed once, their days summed when the report is by day. */
    private void addInstance(String backend, long cents, long attributed) {
        for (int i = 0; i < instances.size(); i++) {
            InstanceCost known = instances.get(i);
            if (known.backend().equals(backend)) {
                instances.set(i, new InstanceCost(backend, known.spendCents() + cents,
                        known.attributedCents() + attributed));
                return;
            }
        }
        instances.add(new InstanceCost(backend, cents, attributed));
    }

    /**
     * {@code cents} shared in proportion to the weights, by largest remainder: each share is its exact part rounded
     * down, and the cents left go one each to the largest remainders, so the shares add up to {@code cents}. All
     * weights zero (requests that used no tokens): nobody is given anything.
     */
    static Map<Share, Long> split(long cents, Map<Share, Double> weights) {
        double sum = weights.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<Share, Long> shares = new TreeMap<>();
        if (sum <= 0 || cents <= 0) {
            return shares;
        }
        List<Map.Entry<Share, Double>> remainders = new ArrayList<>();
        long given = 0;
        for (Map.Entry<Share, Double> weight : weights.entrySet()) {
            double exact = cents * weight.getValue() / sum;
            long floor = (long) Math.floor(exact);
            shares.put(weight.getKey(), floor);
            given += floor;
            remainders.add(Map.entry(weight.getKey(), exact - floor));
        }
        remainders.sort(Map.Entry.<Share, Double>comparingByValue().reversed());
        for (int i = 0; given < cents; i = (i + 1) % remainders.size()) {
            shares.merge(remainders.get(i).getKey(), 1L, Long::sum);
            given++;
        }
        return shares;
    }

    /** What a rented instance's spend is shared over: the instance, and the UTC day when grouped by day (else -1). */
    record Unit(String backend, long day) implements Comparable<Unit> {
        @Override
        public int compareTo(Unit o) {
            int c = backend.compareTo(o.backend);
            return c != 0 ? c : Long.compare(day, o.day);
        }
    }

    /** Who is given a share: a report row and a key (either may be null). */
    record Share(String group, String key) implements Comparable<Share> {
        private static final Comparator<String> NULLS_FIRST = Comparator.nullsFirst(String::compareTo);

        @Override
        public int compareTo(Share o) {
            int c = NULLS_FIRST.compare(group, o.group);
            return c != 0 ? c : NULLS_FIRST.compare(key, o.key);
        }
    }
}

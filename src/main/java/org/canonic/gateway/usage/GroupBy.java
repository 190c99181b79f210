package org.canonic.gateway.usage;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Optional;

/** What the rows of a usage report are: one per key, route, backend, model or UTC day. */
public enum GroupBy {
    KEY, ROUTE, BACKEND, MODEL, DAY;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<GroupBy> parse(String text) {
        for (GroupBy g : values()) {
            if (g.label().equals(text)) {
                return Optional.of(g);
            }
        }
        return Optional.empty();
    }

    /** The row a bucket counts in (null when the bucket has no such name, e.g. no route). */
    String of(UsageBook.Cell cell) {
        return switch (this) {
            case KEY -> cell.key();
            case ROUTE -> cell.route();
            case BACKEND -> cell.backend();
            case MODEL -> cell.model();
            case DAY -> LocalDate.ofEpochDay(Math.floorDiv(UsageBook.hourStartMs(cell.hour()), 86_400_000L))
                    .atStartOfDay(ZoneOffset.UTC).toLocalDate().toString();
        };
    }
}

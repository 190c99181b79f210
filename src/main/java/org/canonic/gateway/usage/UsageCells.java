package org.canonic.gateway.usage;

import java.util.List;
import java.util.Map;

/** Where a report reads its buckets: this replica's book, or the replicas' shared one ({@link SharedUsage}). */
public interface UsageCells {

    /** The buckets whose hour starts within {@code [fromMs, toMs)} (rounded out to whole hours). */
    List<Map.Entry<UsageBook.Cell, UsageTally>> cells(long fromMs, long toMs);
}

package org.canonic.gateway.usage;

import io.quarkus.runtime.Startup;
import io.vertx.core.Vertx;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.GuardConfig;
import org.canonic.gateway.relay.OpenAiError;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Answers usage questions from the aggregate (the replicas' shared one on Redis), pricing rented instances with
 * governed compute's real spend, and keeps each key's cost today (and on Redis its tokens on every replica) current
 * for the daily budgets: recomputed every {@value #BUDGET_REFRESH_MS} ms off the request path, only when some key has
 * a budget.
 */
@Startup
@Singleton
public class UsageService {

    private static final Logger LOG = Logger.getLogger(UsageService.class);
    static final long BUDGET_REFRESH_MS = 5_000;
    private static final long HOUR_MS = 3_600_000L;

    private final UsageBook book;
    private final UsagePricing pricing;
    private final UsagePricing.InstanceSpend spend;
    private final Vertx vertx;
    private long timer = -1;

    /** A usage question that cannot be answered as asked: the OpenAI-shaped 400 says which parameter. */
    public static final class BadQuery extends RuntimeException {
        private final transient OpenAiError error;

        BadQuery(String message, String param) {
            super(message, null, false, false);
            this.error = OpenAiError.invalidRequest(400, message, param, "invalid_" + param);
        }

        public OpenAiError error() {
            return error;
        }
    }

    @Inject
    UsageService(UsageBook book, GatewayConfig config, ComputeService compute, Vertx vertx) {
        this.book = book;
        this.pricing = new UsagePricing(config.usage().outputTokenWeight(),
                Map.copyOf(config.usage().usdPerMillionTokens()));
        this.spend = compute::spendUsd;
        this.vertx = vertx;
        GuardConfig.KeyLimits limits = config.keyLimits();
        boolean budgets = limits.usdPerDay() > 0 || limits.tokensPerDay() > 0 || limits.keys().values().stream()
                .anyMatch(k -> k.usdPerDay().orElse(0) > 0 || k.tokensPerDay().orElse(0) > 0);
        if (budgets) {
            refreshCostsToday();
            timer = vertx.setPeriodic(BUDGET_REFRESH_MS, id -> vertx.executeBlocking(() -> {
                refreshCostsToday();
                return null;
            }, false));
        }
    }

    /**
     * The report for {@code from}/{@code to} (ISO-8601 instants or UTC dates; default today so far), rows by
     * {@code groupBy} (one of {@code allowed}, default {@code fallback}); {@code onlyKey}: that key's usage only.
     * The period is widened to whole UTC hours, the aggregate's resolution.
     */
    public UsageReport report(String from, String to, String groupBy, GroupBy fallback, Set<GroupBy> allowed,
                              String onlyKey) {
        long now = System.currentTimeMillis();
        long fromMs = from == null || from.isBlank()
                ? LocalDate.now(ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli()
                : instant(from, "from");
        long toMs = to == null || to.isBlank() ? now : instant(to, "to");
        fromMs = Math.floorDiv(fromMs, HOUR_MS) * HOUR_MS;
        toMs = Math.floorDiv(toMs + HOUR_MS - 1, HOUR_MS) * HOUR_MS;
        if (toMs <= fromMs) {
            throw new BadQuery("'to' must be after 'from'.", "to");
        }
        if (fromMs < Math.floorDiv(now - book.retentionMs(), HOUR_MS) * HOUR_MS) {
            throw new BadQuery("Usage is kept for " + book.retentionMs() / HOUR_MS + " hours"
                    + " (gateway.usage.retention): 'from' may not be earlier than "
                    + Instant.ofEpochMilli(Math.floorDiv(now - book.retentionMs(), HOUR_MS) * HOUR_MS) + ".",
                    "from");
        }
        GroupBy by = fallback;
        if (groupBy != null && !groupBy.isBlank()) {
            by = GroupBy.parse(groupBy.strip()).filter(allowed::contains).orElseThrow(() -> new BadQuery(
                    "group_by must be one of " + allowed.stream().map(GroupBy::label).sorted().toList() + ".",
                    "group_by"));
        }
        return UsageReport.build(book.source(), fromMs, toMs, by, pricing, spend, onlyKey);
    }

    private static long instant(String text, String param) {
        String value = text.strip();
        try {
            if (value.length() == 10) {
                return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            }
            try {
                return Instant.parse(value).toEpochMilli();
            } catch (DateTimeParseException e) {
                return OffsetDateTime.parse(value).toInstant().toEpochMilli();
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new BadQuery("'" + param + "' must be an ISO-8601 instant (2026-12-07T10:00:00Z) or a UTC date"
                    + " (2026-12-07).", param);
        }
    }

    /** Every key's cost today, for the dollar budgets, and (replicas on Redis) its tokens on every replica. */
    void refreshCostsToday() {
        try {
            long dayStart = LocalDate.now(ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            UsageCells source = book.source();
            UsageReport today = UsageReport.build(source, dayStart, System.currentTimeMillis(), GroupBy.KEY,
                    pricing, spend, null);
            Map<String, Double> costs = new HashMap<>();
            Map<String, Long> tokens = new HashMap<>();
            today.rows().forEach(row -> {
                if (row.group() != null) {
                    costs.put(row.group(), row.costUsd());
                    tokens.put(row.group(), row.tally.input() + row.tally.output());
                }
            });
            book.usdToday(costs);
            if (source != book) {
                book.sharedTokensToday(tokens);
            }
        } catch (RuntimeException e) {
            LOG.warnf("Usage: the keys' cost today could not be computed (%s); the budgets use the last one",
                    e.toString());
        }
    }

    @PreDestroy
    void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }
}

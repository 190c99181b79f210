package org.canonic.gateway.policy;

import org.canonic.gateway.config.GuardConfig;
import org.canonic.gateway.relay.OpenAiError;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Locale;

/**
 * Per-key daily budgets ({@code gateway.key-limits[.keys.<id>].usd-per-day|tokens-per-day}): a key whose finished
 * requests today (UTC) cost or used as much as its budget is refused with 429 {@code budget_exceeded} and a
 * {@code Retry-After} until midnight UTC, before anything is forwarded; other keys are not affected. What a key used comes
 * from the usage aggregate ({@link DailyUsage}): requests still in flight when a budget is crossed finish, and its
 * dollars are recomputed every few seconds, so a key may overshoot by what it had in flight meanwhile.
 */
public final class KeyBudgets implements PolicyFilter {

    /** Today's usage per key, as the usage aggregate knows it. */
    public interface DailyUsage {
        DailyUsage NONE = new DailyUsage() {
            @Override
            public long tokensToday(String key) {
                return 0;
            }

            @Override
            public double usdToday(String key) {
                return 0;
            }
        };

        long tokensToday(String key);

        double usdToday(String key);
    }

    private final GuardConfig.KeyLimits config;
    private final DailyUsage usage;
    private final boolean any;

    KeyBudgets(GuardConfig.KeyLimits config, DailyUsage usage) {
        this.config = config;
        this.usage = usage;
        this.any = config.usdPerDay() > 0 || config.tokensPerDay() > 0 || config.keys().values().stream()
                .anyMatch(k -> k.usdPerDay().orElse(0) > 0 || k.tokensPerDay().orElse(0) > 0);
    }

    @Override
    public void check(PolicyContext request) {
        if (!any || request.keyId == null) {
            return;
        }
        GuardConfig.KeyLimit own = config.keys().get(request.keyId);
        double usdBudget = own == null ? config.usdPerDay() : own.usdPerDay().orElse(config.usdPerDay());
        long tokenBudget = own == null ? config.tokensPerDay() : own.tokensPerDay().orElse(config.tokensPerDay());
        if (tokenBudget > 0 && usage.tokensToday(request.keyId) >= tokenBudget) {
            throw exceeded(request.keyId, tokenBudget + " tokens per day");
        }
        if (usdBudget > 0 && usage.usdToday(request.keyId) >= usdBudget) {
            throw exceeded(request.keyId, String.format(Locale.ROOT, "$%.2f per day", usdBudget));
        }
    }

    private static Refusal exceeded(String keyId, String budget) {
        Instant reset = LocalDate.now(ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        long seconds = Math.max(1, reset.getEpochSecond() - Instant.now().getEpochSecond());
        return new Refusal(new OpenAiError(429, "Key '" + keyId + "' has used its budget of " + budget
                + ". It resets at " + reset + " (midnight UTC).", "insufficient_quota", null, "budget_exceeded"),
                seconds);
    }
}

package org.canonic.gateway.usage;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * Usage and budgets: a ledger of its own (so the usage API's sums can be compared with every line of it), three
 * keys for a mixed load, key {@code capped} with a budget of 30 tokens a day, key {@code spender} with a budget of
 * $0.01 a day, keys {@code i1..i3} for a rented instance's cost split, and backend alpha priced at $1000 per million weighted tokens (a 3-token answer to an 11-token prompt
 * costs 11 + 4 x 3 = 23 weighted tokens: $0.023).
 */
public class UsageProfile implements QuarkusTestProfile {

    public static final String K1 = "gw-usage-k1-0123456789abcdef";
    public static final String K2 = "gw-usage-k2-0123456789abcdef";
    public static final String K3 = "gw-usage-k3-0123456789abcdef";
    public static final String CAPPED = "gw-usage-capped-0123456789ab";
    public static final String SPENDER = "gw-usage-spender-0123456789a";
    /** Keys that use only a rented instance (the cost split test). */
    public static final String[] ON_INSTANCE = {"gw-usage-i1-0123456789abcdef", "gw-usage-i2-0123456789abcdef",
            "gw-usage-i3-0123456789abcdef"};

    @Override
    public String getConfigProfile() {
        return "usage";
    }

    /** The profile's settings, added by {@link org.canonic.gateway.testing.FakeBackends} as {@code %usage.} entries. */
    public static Map<String, String> settings() {
        return Map.ofEntries(
                Map.entry("gateway.auth.mode", "keys"),
                Map.entry("gateway.auth.keys", "k1:" + K1 + ",k2:" + K2 + ",k3:" + K3 + ",capped:" + CAPPED
                        + ",spender:" + SPENDER + ",i1:" + ON_INSTANCE[0] + ",i2:" + ON_INSTANCE[1] + ",i3:" + ON_INSTANCE[2]),
                Map.entry("gateway.key-limits.keys.capped.tokens-per-day", "30"),
                Map.entry("gateway.key-limits.keys.spender.usd-per-day", "0.01"),
                Map.entry("gateway.usage.usd-per-million-tokens.alpha", "1000"));
    }
}

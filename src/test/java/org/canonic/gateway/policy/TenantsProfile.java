package org.canonic.gateway.policy;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * Several tenants with limits of their own, on small backends: key {@code rpm} may start 3 requests a minute,
 * {@code tpm} spend 1000 tokens a minute, {@code one} have 1 request in flight; {@code a} and {@code b} have no limit
 * of their own and share backends of 2 slots (waiting up to 5 s for one). A client that reads nothing for 1.5 s loses
 * its stream. The body budget is 16 MiB, of which each key may hold a quarter.
 */
public class TenantsProfile implements QuarkusTestProfile {

    public static final String RPM = "gw-tenant-rpm-0123456789abcdef";
    public static final String TPM = "gw-tenant-tpm-0123456789abcdef";
    public static final String ONE = "gw-tenant-one-0123456789abcdef";
    public static final String A = "gw-tenant-aaa-0123456789abcdef";
    public static final String B = "gw-tenant-bbb-0123456789abcdef";
    public static final long STALL_MS = 1500;

    @Override
    public String getConfigProfile() {
        return "tenants";
    }

    /** The profile's settings, added by {@link org.canonic.gateway.testing.FakeBackends} as {@code %tenants.} entries. */
    public static Map<String, String> settings() {
        return Map.ofEntries(
                Map.entry("gateway.auth.mode", "keys"),
                Map.entry("gateway.auth.keys", "rpm:" + RPM + ",tpm:" + TPM + ",one:" + ONE + ",a:" + A + ",b:" + B),
                Map.entry("gateway.key-limits.keys.rpm.requests-per-minute", "3"),
                Map.entry("gateway.key-limits.keys.tpm.tokens-per-minute", "1000"),
                Map.entry("gateway.key-limits.keys.one.concurrent", "1"),
                Map.entry("gateway.defaults.max-concurrency", "2"),
                Map.entry("gateway.defaults.concurrency-wait", "5s"),
                Map.entry("gateway.client-stall-timeout", STALL_MS + "ms"),
                // Small enough for one key's half-sent bodies to fill it: each key may hold a quarter (4 MiB).
                Map.entry("gateway.limits.body-budget", "16M"));
    }
}

package org.canonic.gateway.testing;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * Hostile load, scaled to a test: the {@code %hostile.} settings of {@link FakeBackends}. A body budget of 16 MiB
 * (instead of a quarter of the heap), answers up to 4 MiB, one-second header and body clocks, a three-second idle
 * clock, at most {@link #MAX_PER_ADDRESS} connections per client address and a ledger that rotates every 2 KiB.
 */
public class HostileProfile implements QuarkusTestProfile {

    public static final String BODY_BUDGET = "16M";
    public static final long BODY_BUDGET_BYTES = 16L * 1024 * 1024;
    public static final long BODY_TIMEOUT_MS = 1000;
    public static final long HEADER_TIMEOUT_MS = 1000;
    public static final long IDLE_TIMEOUT_MS = 3000;
    public static final int MAX_PER_ADDRESS = 100;

    @Override
    public String getConfigProfile() {
        return "hostile";
    }
}

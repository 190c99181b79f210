package org.canonic.gateway.telemetry;

import io.quarkus.test.junit.QuarkusTestProfile;

/** The ledger writes to a FIFO nobody reads, with room for 4 records: the {@code %blocked.} settings. */
public class BlockedLedgerProfile implements QuarkusTestProfile {

    @Override
    public String getConfigProfile() {
        return "blocked";
    }
}

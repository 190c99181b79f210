package org.canonic.gateway.health;

/**
 * A backend's health at one moment; immutable, so routing reads it without locks.
 *
 * @param state                the probed state
 * @param reason               why it is in that state
 * @param lastProbeEpochMs     when the last probe finished (0 = never)
 * @param maxModelLen          the context window learned from {@code /v1/models} (0 = unknown)
 * @param consecutiveFailures  failed probes in a row
 * @param consecutiveSuccesses good probes in a row
 */
public record HealthSnapshot(BackendState state, String reason, long lastProbeEpochMs, int maxModelLen,
                             int consecutiveFailures, int consecutiveSuccesses) {

    static HealthSnapshot pending() {
        return new HealthSnapshot(BackendState.PENDING, "not probed yet", 0, 0, 0, 0);
    }

    static HealthSnapshot unprobed() {
        return new HealthSnapshot(BackendState.UP, "not probed (passive signals only)", 0, 0, 0, 0);
    }
}

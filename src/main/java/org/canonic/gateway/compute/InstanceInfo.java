package org.canonic.gateway.compute;

/**
 * An instance as the provider reports it, mapped defensively: an unknown status counts as not ready.
 *
 * @param status         the gateway's reading of the provider's status
 * @param providerStatus the provider's own status words, shown to operators
 * @param message        the provider's message (Vast.ai {@code status_msg}), or null
 * @param baseUrl        where vLLM answers (no {@code /v1}), or null while unknown
 * @param usdPerHour     the rate the provider reports, or NaN
 */
public record InstanceInfo(String id, String label, Status status, String providerStatus, String message,
                           String baseUrl, double usdPerHour) {

    public enum Status { STARTING, RUNNING, STOPPED, FAILED, UNKNOWN }

    /** Provider words are shown to operators and written to the tracked log: never with a credential in them. */
    public InstanceInfo {
        providerStatus = Redaction.scrub(providerStatus);
        message = Redaction.scrub(message);
    }
}

package org.canonic.gateway.compute;

/**
 * A serving instance the gateway lost without asking: the provider stopped it (a Vast.ai interruptible instance
 * outbid, an account out of credit), its container exited, it disappeared, or it stopped answering its probes past
 * the grace. Told to {@link ComputeService#onInterruption} listeners once it is drained out of the fleet, reported
 * and cleaned up (destroyed, stopped or kept as configured), so that a capacity policy can put another in its place.
 *
 * @param instance the lost instance's name (its label and backend name)
 * @param kind     {@code stopped}, {@code failed}, {@code gone} or {@code unresponsive}
 * @param reason   in words, from the provider's status where it gave one
 * @param state    the instance's tracked state after the clean-up
 */
public record Interruption(String instance, String provider, String recipe, String kind, String reason,
                           TrackedInstance.State state) {
}

package org.canonic.gateway.compute;

/**
 * What a {@link ComputeProvider} (as this gateway's client of it implements it) can do, declared by the provider so
 * that the rest of compute asks for a capability rather than a provider's name, and a provider of another shape (a
 * serverless one, such as RunPod serverless or Modal, whose endpoints the provider scales) fits beside the machine
 * rentals.
 *
 * @param stopStart        its machines can be stopped and started again (they keep their disk, billed as storage)
 * @param stopLock         it has a provider-side stop guard ({@link ComputeProvider#lock}: RunPod {@code locked}),
 *                         set while an instance serves and lifted before a stop, destroy or reconfigure
 * @param ownTls           its machines are reached over the internet on an address of their own, so the gateway makes
 *                         the encryption itself (a TLS identity per instance); false where the provider's own HTTPS
 *                         fronts them
 * @param interruptible    launches may be interruptible (bid or spot): such an instance can be stopped by the provider
 *                         at any time. Neither client launches one today (Vast.ai on-demand; RunPod REST v2 has no
 *                         spot), but the watch handles any provider-side stop the same way
 * @param serverless       it serves through endpoints whose workers the provider scales, not machines the gateway
 *                         rents one by one
 */
public record ProviderCapabilities(boolean stopStart, boolean stopLock, boolean ownTls, boolean interruptible,
                                   boolean serverless) {

    /** A machine rental with stop and start and nothing more. */
    public static final ProviderCapabilities MACHINES = new ProviderCapabilities(true, false, false, false, false);
}

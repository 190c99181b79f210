package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One rentable machine as the provider priced it when it was read.
 *
 * @param usdPerHour           what it bills per hour while running (Vast.ai {@code dph_total} priced with the
 *                             recipe's disk; RunPod GPU price x count)
 * @param storageUsdPerGbMonth storage price, which keeps billing while stopped
 * @param raw                  the provider's own fields, shown as they came
 */
public record Offer(String provider, String id, String gpuName, int numGpus, double vramGb, double usdPerHour,
                    double reliability, double storageUsdPerGbMonth, ObjectNode raw) {
}

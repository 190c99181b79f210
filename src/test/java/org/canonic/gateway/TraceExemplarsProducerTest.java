package org.canonic.gateway;

import org.canonic.gateway.telemetry.TraceExemplars;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry gets a sampler only when traces are exported: without one it does no exemplar work at all. */
class TraceExemplarsProducerTest {

    @Test
    void aSamplerOnlyWithAnOtlpEndpoint() {
        assertEquals(Optional.empty(), TraceExemplarsProducer.exemplarSampler(Optional.empty()));
        assertEquals(Optional.empty(), TraceExemplarsProducer.exemplarSampler(Optional.of("  ")));
        assertTrue(TraceExemplarsProducer.exemplarSampler(Optional.of("http://collector:4318/v1/traces"))
                .orElseThrow() instanceof TraceExemplars);
    }
}

package org.canonic.gateway;

import io.prometheus.client.exemplars.ExemplarSampler;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.telemetry.TraceExemplars;

import java.util.Optional;

/**
 * The exemplar sampler the Prometheus registry is built with: {@link TraceExemplars} instead of quarkus-micrometer's
 * empty one (which produces the same type without a default-bean marker, hence the alternative with a priority).
 * quarkus-micrometer's own OpenTelemetry sampler needs quarkus-opentelemetry, which the gateway does not use.
 */
@Singleton
public class TraceExemplarsProducer {

    @Produces
    @Singleton
    @Alternative
    @Priority(1)
    Optional<ExemplarSampler> exemplarSampler() {
        return Optional.of(new TraceExemplars());
    }
}

package org.canonic.gateway;

import io.prometheus.client.exemplars.ExemplarSampler;
import jakarta.annotation.Priority;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.telemetry.TraceExemplars;

import java.util.Optional;

/**
 * The exemplar sampler the Prometheus registry is built with: {@link TraceExemplars} when traces are exported (an
 * OTLP endpoint is configured), else none, as quarkus-micrometer's own empty provider would give. Without a sampler
 * the registry does no exemplar work at all on an observation, so tracing off adds nothing to recording metrics.
 * quarkus-micrometer's provider produces the same type without a default-bean marker, hence the alternative with a
 * priority; its OpenTelemetry sampler needs quarkus-opentelemetry, which the gateway does not use.
 */
@Singleton
public class TraceExemplarsProducer {

    @Produces
    @Singleton
    @Alternative
    @Priority(1)
    Optional<ExemplarSampler> exemplarSampler(GatewayConfig config) {
        return exemplarSampler(config.telemetry().tracing().otlpEndpoint());
    }

    static Optional<ExemplarSampler> exemplarSampler(Optional<String> otlpEndpoint) {
        return otlpEndpoint.map(String::strip).filter(e -> !e.isEmpty()).map(e -> (ExemplarSampler) new TraceExemplars());
    }
}

package org.canonic.gateway.health;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.rest.client.reactive.QuarkusRestClientBuilder;
import io.smallrye.faulttolerance.api.TypedGuard;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.WebApplicationException;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.UpstreamEndpoint;

import java.net.URI;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeoutException;

/**
 * Probes one backend through its control endpoints and says what it found. The REST clients stay package-private;
 * this class alone carries the timeout guard ({@code probe-<backend>}) and the interpretation of answers.
 */
final class BackendProbe {

    private final Backend backend;
    private final VllmControlApi vllm;
    private final RunPodControlApi runPod;
    private final TypedGuard<Uni<ProbeResult>> guard;

    BackendProbe(Backend backend, Duration timeout) {
        this.backend = backend;
        UpstreamEndpoint endpoint = backend.endpoint();
        if (backend.probe() == Backend.ProbeKind.RUNPOD_SERVERLESS) {
            this.runPod = client(URI.create(endpoint.origin() + endpoint.runPodEndpointPath()), timeout,
                    RunPodControlApi.class, backend.pinnedCertificate());
            this.vllm = null;
        } else {
            this.vllm = client(URI.create(endpoint.origin() + endpoint.rootPath("")), timeout, VllmControlApi.class,
                    backend.pinnedCertificate());
            this.runPod = null;
        }
        // One timeout for the whole probe (both calls): a slow answer is as bad as none.
        this.guard = TypedGuard.create(new jakarta.enterprise.util.TypeLiteral<Uni<ProbeResult>>() {
                })
                .withDescription("health probe of backend " + backend.name())
                .withTimeout().duration(timeout.toMillis(), ChronoUnit.MILLIS).done()
                .withThreadOffload(false)
                .build();
    }

    /** Closes the probe's REST clients (and their connections); the backend is gone. */
    void close() {
        for (Object client : new Object[]{vllm, runPod}) {
            if (client instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    // Closing a client of a backend that is going away: nothing left to do about a failure.
                }
            }
        }
    }

    private static <T> T client(URI base, Duration timeout, Class<T> api, String pinnedCertificate) {
        QuarkusRestClientBuilder builder = QuarkusRestClientBuilder.newBuilder()
                .baseUri(base)
                .connectTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .readTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        if (pinnedCertificate != null) {
            // The probes trust what the data path trusts: the backend's own certificate alone (see BackendPool).
            builder.trustStore(pinned(pinnedCertificate), "").verifyHost(false);
        }
        return builder.build(api);
    }

    private static java.security.KeyStore pinned(String pem) {
        try {
            java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("pinned", java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(
                            pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
            return store;
        } catch (java.security.GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("the pinned certificate was checked at registration", e);
        }
    }

    Uni<ProbeResult> probe() {
        return guard.get(this::unguarded)
                .onFailure().recoverWithItem(BackendProbe::describeFailure);
    }

    private Uni<ProbeResult> unguarded() {
        return switch (backend.probe()) {
            case VLLM -> vllm.health()
                    .onItem().transformToUni(response -> response.getStatus() == 200
                            ? readModels()
                            : Uni.createFrom().item(ProbeResult.failed("/health answered " + response.getStatus())));
            case MODELS -> readModels();
            case RUNPOD_SERVERLESS -> runPod.health(authorization()).map(BackendProbe::workers);
            case NONE -> Uni.createFrom().item(ProbeResult.healthy(null, 0));
        };
    }

    private Uni<ProbeResult> readModels() {
        return vllm.models(authorization()).map(this::matchModel);
    }

    /** The configured model must be among the served ones; its {@code max_model_len} is the learned window. */
    ProbeResult matchModel(JsonNode list) {
        JsonNode data = list.path("data");
        if (!data.isArray() || data.isEmpty()) {
            return ProbeResult.failed("/v1/models listed no model");
        }
        for (JsonNode model : data) {
            if (backend.model().equals(model.path("id").asText())) {
                return ProbeResult.healthy(backend.model(), model.path("max_model_len").asInt(0));
            }
        }
        return ProbeResult.mismatch(data.get(0).path("id").asText("?"), backend.model());
    }

    /**
     * RunPod worker counts: any ready, idle or running worker means warm; otherwise initializing workers (or none
     * at all: scaled to zero, the next request starts one) mean cold; only unhealthy or throttled workers mean down.
     */
    static ProbeResult workers(JsonNode health) {
        JsonNode workers = health.path("workers");
        if (!workers.isObject()) {
            return ProbeResult.failed("RunPod health has no worker counts");
        }
        int warm = workers.path("ready").asInt(0) + workers.path("idle").asInt(0) + workers.path("running").asInt(0);
        int initializing = workers.path("initializing").asInt(0);
        int broken = workers.path("unhealthy").asInt(0) + workers.path("throttled").asInt(0);
        int queued = health.path("jobs").path("inQueue").asInt(0);
        if (warm > 0) {
            return ProbeResult.healthy(null, 0);
        }
        if (initializing > 0) {
            return ProbeResult.cold(initializing + " worker(s) initializing, " + queued + " job(s) queued");
        }
        if (broken > 0) {
            return ProbeResult.down("no usable worker: " + workers.path("unhealthy").asInt(0) + " unhealthy, "
                    + workers.path("throttled").asInt(0) + " throttled, " + queued + " job(s) queued");
        }
        return ProbeResult.cold("scaled to zero: the next request starts a worker");
    }

    private String authorization() {
        return backend.authorization().orElse(null);
    }

    private static ProbeResult describeFailure(Throwable failure) {
        if (failure instanceof WebApplicationException web) {
            return ProbeResult.failed("answered " + web.getResponse().getStatus());
        }
        if (failure instanceof TimeoutException || failure.getClass().getSimpleName().contains("Timeout")) {
            return ProbeResult.timedOut();
        }
        if (failure instanceof java.net.ConnectException || failure.getCause() instanceof java.net.ConnectException) {
            return ProbeResult.failed("connection refused");
        }
        return ProbeResult.failed("probe failed (" + failure.getClass().getSimpleName() + ")");
    }
}

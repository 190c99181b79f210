package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.compute.runpod.RunPodProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RunPod REST v2 client against a fake RunPod API on loopback. */
class RunPodProviderTest {

    static final String KEY = "runpod-test-key-abcdef0123456789";
    static Vertx vertx;
    static FakeRunPod fake;
    final ObjectMapper mapper = new ObjectMapper();
    final Recipe recipe = new Recipes(Map.of()).find("kilocode").orElseThrow();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        fake = new FakeRunPod(vertx, KEY);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    RunPodProvider provider() {
        ApiKeys keys = new ApiKeys("RUNPOD_API_KEY", Optional.empty(), Optional.empty(), n -> KEY);
        return new RunPodProvider(new ProviderHttp("RunPod", fake.url(), keys, mapper, Duration.ofSeconds(5), 3,
                Duration.ofSeconds(1)), mapper, "https://{id}-8000.proxy.runpod.net", 3, 50);
    }

    @Test
    void onlyTheApisOwn404MeansAPodIsGone() {
        fake.reset();
        RunPodProvider runpod = provider();
        String id = runpod.create(recipe, runpod.offerForLaunch(recipe, "NVIDIA GeForce RTX 4090"),
                "mg-kilocode-gw-0a1b2c3e", "mg-pod-key");
        fake.readNotFoundBody = "<html><body>404 Not Found</body></html>";
        ComputeException odd = assertThrows(ComputeException.class, () -> runpod.get(id));
        assertEquals("provider_bad_answer", odd.code());
        fake.readNotFoundBody = null;
        assertTrue(runpod.get(id).isPresent());
        assertTrue(runpod.get("no-such-pod").isEmpty(), "RunPod's RFC 9457 404 means gone");
    }

    @Test
    void aPodLivesThroughV2WithTheRecipeALockAndA409() {
        fake.reset();
        RunPodProvider runpod = provider();
        List<Offer> offers = runpod.offers(new ComputeProvider.OfferQuery(null, 1, 24.0, 0.75, null, null, null));
        assertEquals(List.of("NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 4090"),
                offers.stream().map(Offer::id).toList(), "cheapest first, over the price ceiling left out");
        Offer offer = runpod.offerForLaunch(recipe, "NVIDIA GeForce RTX 4090");
        assertEquals(0.69, offer.usdPerHour());
        String id = runpod.create(recipe, offer, "mg-kilocode-gw-0a1b2c3d", "mg-pod-key");
        JsonNode body = fake.received("POST", "/v2/pods").get(0).body();
        assertEquals("vllm/vllm-openai", body.path("image").asText());
        assertEquals("[\"8000/http\"]", body.path("ports").toString());
        assertEquals("32768", body.path("env").path("MAX_MODEL_LEN").asText());
        assertEquals("0.90", body.path("env").path("GPU_MEMORY_UTILIZATION").asText());
        assertTrue(body.path("args").asText().endsWith("--api-key mg-pod-key"), body.toString());
        assertEquals("mg-kilocode-gw-0a1b2c3d", body.path("name").asText());
        InstanceInfo info = runpod.get(id).orElseThrow();
        assertEquals("https://" + id + "-8000.proxy.runpod.net", info.baseUrl());
        assertEquals(0.69, info.usdPerHour());
        runpod.lock(id, true);
        ComputeException locked = assertThrows(ComputeException.class, () -> runpod.setState(id, false));
        assertEquals(409, locked.status());
        runpod.lock(id, false);
        runpod.setState(id, false);
        assertEquals(InstanceInfo.Status.STOPPED, runpod.get(id).orElseThrow().status());
        assertEquals(1, runpod.list().size());
        runpod.destroy(id);
        assertTrue(runpod.get(id).isEmpty());
        assertEquals(0, runpod.list().size());
        assertEquals(64 * 0.20 / 730.0, runpod.stoppedUsdPerHour(recipe, offer), 1e-9);
    }

    @Test
    void serverlessHealthIsReadLeniently() {
        ApiKeys keys = new ApiKeys("RUNPOD_API_KEY", Optional.empty(), Optional.empty(), n -> KEY);
        var serverless = new org.canonic.gateway.compute.runpod.RunPodServerless(new ProviderHttp("RunPod serverless",
                fake.url(), keys, mapper, Duration.ofSeconds(5), 1, Duration.ofSeconds(1)), mapper);
        JsonNode health = serverless.health("abc123");
        assertEquals(1, health.path("workers").path("running").asInt());
        assertEquals(0, health.path("workers").path("throttled").asInt(), "absent counts as 0");
        assertEquals(2, health.path("jobs").path("inQueue").asInt());
        assertEquals(1, health.path("billing_workers").asInt());
        assertThrows(ComputeException.class, () -> serverless.health("../pods"));
    }
}

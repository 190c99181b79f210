package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.compute.runpod.RunPodProvider;
import org.canonic.gateway.compute.vastai.VastAiProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the provider client retries, and what it must never retry, against the fake APIs on loopback. */
class ProviderHttpTest {

    static final String KEY = "provider-http-test-key-0123456789";
    static Vertx vertx;
    static FakeRunPod runpod;
    static FakeVastAi vast;
    final ObjectMapper mapper = new ObjectMapper();
    final Recipe recipe = new Recipes(Map.of()).find("chat").orElseThrow();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        runpod = new FakeRunPod(vertx, KEY);
        vast = new FakeVastAi(vertx, KEY);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    @BeforeEach
    void reset() {
        runpod.reset();
        vast.reset();
    }

    private ProviderHttp http(String name, String url) {
        ApiKeys keys = new ApiKeys("X_API_KEY", Optional.empty(), Optional.empty(), n -> KEY);
        return new ProviderHttp(name, url, keys, mapper, Duration.ofSeconds(5), 3, Duration.ofSeconds(5));
    }

    private RunPodProvider runpod() {
        return new RunPodProvider(http("RunPod", runpod.url()), mapper, "https://{id}-8000.proxy.runpod.net", 3, 50);
    }

    private VastAiProvider vast() {
        return new VastAiProvider(http("Vast.ai", vast.url()), mapper, 3, 50);
    }

    @Test
    void aCreateThatCreatedAndThenAnswered502IsNotSentAgain() {
        runpod.createAnswerStatus = 502;
        RunPodProvider provider = runpod();
        Offer offer = provider.offerForLaunch(recipe, "NVIDIA GeForce RTX 4090");
        assertThrows(ComputeException.class, () -> provider.create(recipe, offer, "mg-chat-gw-00000001", "k"));
        assertEquals(1, runpod.received("POST", "/v2/pods").size(), "a create is never retried blindly");
        assertEquals(1, runpod.pods.size(), "one pod with that name, not two");
    }

    @Test
    void aVastCreateThatCreatedAndThenAnswered503IsNotSentAgain() {
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        vast.createAnswerStatus = 503;
        VastAiProvider provider = vast();
        Offer offer = provider.offerForLaunch(recipe, "101");
        assertThrows(ComputeException.class, () -> provider.create(recipe, offer, "mg-chat-gw-00000002", "k"));
        assertEquals(1, vast.received("PUT", "/api/v0/asks/").size(), "a create is never retried blindly");
        assertEquals(1, vast.instances.size());
    }

    @Test
    void aTransient500OnAListIsRetriedOnce() {
        vast.addInstance("mg-chat-gw-00000003", "running");
        vast.failNext("GET", "/api/v1/instances/", 500, 1);
        assertEquals(1, vast().list().size(), "one 500 is retried");
        vast.failNext("GET", "/api/v1/instances/", 500, 2);
        ComputeException twice = assertThrows(ComputeException.class, () -> vast().list());
        assertTrue(twice.getMessage().contains("500"), twice.getMessage());
        runpod.failNext("GET", "/v2/pods", 500, 1);
        assertEquals(0, runpod().list().size(), "the same for RunPod");
    }

    @Test
    void aRetryAfterGivenAsAnHttpDateIsHonoured() {
        // Two seconds ahead at one-second resolution: the wait is more than one second, never the 0.15 s backoff.
        runpod.retryAfter = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)
                .plusSeconds(2));
        runpod.tooMany.set(1);
        long start = System.nanoTime();
        assertEquals(0, runpod().list().size());
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(waitedMs >= 900, "waited " + waitedMs + " ms");
        assertEquals(2, runpod.received("GET", "/v2/pods").size());
    }
}

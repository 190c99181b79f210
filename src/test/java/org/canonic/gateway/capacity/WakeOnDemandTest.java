package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Scale to zero and wake on demand over real HTTP: route {@code cold} has no backend and no fallback; recipe
 * {@code cold} serves it once launched on the fake Vast.ai API, on a FakeVllm machine. The fake keeps a new instance
 * {@code loading} until the test lets it run, so the time from launch to ready is the test's to choose.
 */
@QuarkusTest
@TestProfile(WakeProfile.class)
class WakeOnDemandTest extends GatewayTest {

    private FakeVastAi vast;
    private FakeVllm machine;

    @Override
    protected void awaitReady() {
        // Route cold has no backend on purpose: the gateway is never "UP" for it.
    }

    @BeforeEach
    void fakes() {
        vast = FakeBackends.vastai();
        vast.reset();
        vast.offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        vast.createdStatus = "loading";
        machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL);
        vast.instancePort = machine.port();
    }

    @AfterEach
    void cleanUp() throws Exception {
        admin("DELETE", "/admin/compute/capacity/cold", null);
        ComputeService compute = Arc.container().instance(ComputeService.class).get();
        for (TrackedInstance t : compute.all()) {
            if (t.live()) {
                try {
                    compute.handover().destroy(t.name(), true, 1000, "test", null);
                } catch (ComputeException e) {
                    // already going
                }
            }
        }
        awaitNoBackend();
        machine.close();
        vast.reset();
    }

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN,
                "x-gateway-actor", "wake-test");
    }

    private void policy(double plannedHours) {
        policy(plannedHours, 1);
    }

    private void policy(double plannedHours, int max) {
        HttpResponse<String> set = admin("PUT", "/admin/compute/capacity/cold", "{\"min_instances\":0,"
                + "\"max_instances\":" + max + ",\"providers\":[\"vastai\"],\"gpu\":\"RTX 4090\","
                + "\"max_usd_per_hour\":0.5,\"planned_hours\":" + plannedHours + "}");
        assertEquals(200, set.statusCode(), set.body());
    }

    private HttpResponse<String> ask() {
        return gateway.post("/v1/chat/completions", chat("cold-model", false));
    }

    private int creates() {
        return vast.received("PUT", "/api/v0/asks/").size();
    }

    private static void assertStarting(HttpResponse<String> answer) {
        assertEquals(503, answer.statusCode(), answer.body());
        JsonNode error = json(answer.body()).get("error");
        assertTrue(error.has("message") && error.has("type") && error.has("param"), answer.body());
        assertEquals("capacity_starting", error.path("code").asText(), answer.body());
        assertEquals("server_error", error.path("type").asText(), answer.body());
        assertTrue(answer.headers().firstValue("retry-after").isPresent(), "Retry-After: " + answer.headers());
    }

    private static long retryAfter(HttpResponse<String> answer) {
        return Long.parseLong(answer.headers().firstValue("retry-after").orElseThrow());
    }

    /**
     * Lets the fake's instances run once they have loaded for about {@value #LAUNCH_MS} ms since the test's last
     * launch: the watch sees them running, registers them and the probes pass. Every launch of these tests takes
     * about as long, so the learned time is the same whichever test ran first.
     */
    private void letRun() throws InterruptedException {
        long wait = lastLaunchMs + LAUNCH_MS - System.currentTimeMillis();
        if (wait > 0) {
            Thread.sleep(wait);
        }
        vast.instances.values().forEach(i -> i.put("actual_status", "running"));
    }

    private static final long LAUNCH_MS = 4000;
    private long lastLaunchMs;

    /** Asks and notes when the launch it triggers began. */
    private HttpResponse<String> wakeUp() {
        lastLaunchMs = System.currentTimeMillis();
        return ask();
    }

    private HttpResponse<String> awaitServed() throws InterruptedException {
        long until = System.currentTimeMillis() + 20_000;
        HttpResponse<String> answer = ask();
        while (answer.statusCode() != 200 && System.currentTimeMillis() < until) {
            Thread.sleep(100);
            answer = ask();
        }
        // A backend is routable a moment before the watch's next poll marks its instance ready (and learns the time).
        ComputeService compute = Arc.container().instance(ComputeService.class).get();
        while (compute.all().stream().anyMatch(t -> t.state() == TrackedInstance.State.WAITING)
                && System.currentTimeMillis() < until) {
            Thread.sleep(50);
        }
        return answer;
    }

    private void awaitNoBackend() throws InterruptedException {
        Fleet fleet = Arc.container().instance(Fleet.class).get();
        long until = System.currentTimeMillis() + 10_000;
        while (fleet.snapshot().backends().values().stream().anyMatch(LiveBackend::routable)
                && fleet.snapshot().backends().keySet().stream().anyMatch(n -> n.startsWith("mg-cold"))
                && System.currentTimeMillis() < until) {
            Thread.sleep(100);
        }
    }

    private JsonNode decisions() {
        JsonNode view = json(admin("GET", "/admin/compute/capacity", null).body());
        for (JsonNode row : view.path("policies")) {
            if (row.path("policy").path("recipe").asText().equals("cold")) {
                return row.path("decisions");
            }
        }
        throw new AssertionError("no policy cold: " + view);
    }

    @Test
    void fiftyConcurrentRequestsAtZeroHearCapacityStartingAndOneInstanceIsLaunchedThenServes() throws Exception {
        HttpResponse<String> before = ask();
        assertEquals(503, before.statusCode(), before.body());
        assertEquals("no_backend_available", json(before.body()).path("error").path("code").asText(),
                "no policy: the ordinary answer");

        policy(1);
        lastLaunchMs = System.currentTimeMillis();
        List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            burst.add(gateway.postAsync("/v1/chat/completions", chat("cold-model", false)));
        }
        for (CompletableFuture<HttpResponse<String>> answer : burst) {
            HttpResponse<String> a = answer.get();
            assertStarting(a);
            long seconds = retryAfter(a);
            assertTrue(seconds > 0 && seconds <= WakeProfile.DEFAULT_TIME_TO_READY_S, "Retry-After " + seconds);
        }
        assertEquals(1, creates(), "one launch for fifty requests");

        // While it loads: the same answer, with what remains of the expected time, and still one launch.
        Thread.sleep(1500);
        HttpResponse<String> during = ask();
        assertStarting(during);
        assertTrue(retryAfter(during) < WakeProfile.DEFAULT_TIME_TO_READY_S + 1, "remaining " + retryAfter(during));
        assertEquals(1, creates());

        letRun();
        HttpResponse<String> served = awaitServed();
        assertEquals(200, served.statusCode(), served.body());
        assertEquals(1, creates(), "served by the one that was launched");
    }

    @Test
    void theRetryAfterOfTheNextWakeIsTheTimeTheLastLaunchTookToBeReady() throws Exception {
        policy(1);
        assertStarting(wakeUp());
        assertEquals(1, creates());
        letRun(); // the launch takes about 4 s to be ready
        assertEquals(200, awaitServed().statusCode());

        // Back to zero: the next request wakes it again and promises what the last launches took.
        ComputeService compute = Arc.container().instance(ComputeService.class).get();
        for (TrackedInstance t : compute.all()) {
            if (t.live()) {
                compute.handover().destroy(t.name(), true, 1000, "test", null);
            }
        }
        awaitNoBackend();
        HttpResponse<String> again = ask();
        assertStarting(again);
        long seconds = retryAfter(again);
        assertTrue(seconds >= 3 && seconds <= 10, "learned from the launch that took ~4 s (not the default "
                + WakeProfile.DEFAULT_TIME_TO_READY_S + " s): " + seconds);
        assertEquals(2, creates());
        JsonNode view = json(admin("GET", "/admin/compute/capacity", null).body());
        long shown = view.path("policies").get(0).path("expected_time_to_ready_seconds").path("vastai").asLong(-1);
        assertTrue(shown >= 2 && shown <= 10, "the view shows what was learned: " + view);
    }

    @Test
    void aRouteWhoseInstancesAreAllDrainedWakesAnotherWithinMaxAndNoneAtMax() throws Exception {
        policy(1, 2);
        assertStarting(wakeUp());
        letRun();
        assertEquals(200, awaitServed().statusCode());
        String first = Arc.container().instance(ComputeService.class).get().all().stream()
                .filter(TrackedInstance::live).findFirst().orElseThrow().name();
        assertEquals(202, admin("POST", "/admin/backends/" + first + "/drain", null).statusCode());

        assertStarting(wakeUp());
        assertEquals(2, creates(), "all drained, one below max_instances: a second launch");

        letRun();
        assertEquals(200, awaitServed().statusCode(), "the second serves");
        String second = Arc.container().instance(ComputeService.class).get().all().stream()
                .filter(t -> t.live() && !t.name().equals(first)).findFirst().orElseThrow().name();
        assertEquals(202, admin("POST", "/admin/backends/" + second + "/drain", null).statusCode());

        // Both drained, none starting, at max_instances 2: nothing is promised, nothing launched.
        HttpResponse<String> atMax = ask();
        assertEquals(503, atMax.statusCode(), atMax.body());
        assertEquals("no_backend_available", json(atMax.body()).path("error").path("code").asText(), atMax.body()
                + Arc.container().instance(ComputeService.class).get().all().stream()
                .map(t -> t.name() + ":" + t.state()).toList());
        assertEquals(2, creates());
        assertTrue(decisions().toString().contains("already at max_instances 2"), decisions().toString());
    }

    @Test
    void aPolicyTheCostGuardWouldRefuseLaunchesNothingAnswersTheOrdinaryErrorAndIsReportedOnce() throws Exception {
        // $0.40/h x 60 h = $24: above the $20 confirmation tier, which no automatic launch may use.
        policy(60);
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> answer = ask();
            assertEquals(503, answer.statusCode(), answer.body());
            assertEquals("no_backend_available", json(answer.body()).path("error").path("code").asText(),
                    "no promise of capacity that will not come: " + answer.body());
        }
        assertEquals(0, creates(), "never launched");
        JsonNode decisions = decisions();
        long refused = 0;
        for (JsonNode d : decisions) {
            refused += d.path("action").asText().equals("scale_refused") ? 1 : 0;
        }
        assertEquals(1, refused, "reported once: " + decisions);
    }
}

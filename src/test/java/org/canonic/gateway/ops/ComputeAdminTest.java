package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.coordination.WebhookReceiver;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.canonic.gateway.testing.FakeBackends.vastai;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Governed compute over real HTTP: fake Vast.ai on loopback, a FakeVllm playing the rented machine. */
@QuarkusTest
class ComputeAdminTest extends GatewayTest {

    private FakeVllm machine;

    @BeforeEach
    void fakes() {
        vastai().reset();
        vastai().offers.add(FakeVastAi.offer(101, "RTX 4090", 24564, 0.40, 0.99));
        machine = FakeBackends.extra(FakeBackends.COMPUTE_MODEL);
        vastai().instancePort = machine.port();
    }

    @AfterEach
    void close() {
        machine.close();
    }

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN,
                "x-gateway-actor", "ops-test");
    }

    private JsonNode awaitInstance(String id, Predicate<JsonNode> condition, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        JsonNode view = null;
        while (System.currentTimeMillis() < deadline) {
            view = json(admin("GET", "/admin/compute/instances/" + id, null).body());
            if (condition.test(view)) {
                return view;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("instance never matched: " + view);
    }

    private static Path stateDir() {
        return FakeBackends.ledger().getParent().resolve("state");
    }

    private static List<String> events(String instance) {
        return FakeBackends.webhooks().deliveries().stream().map(WebhookReceiver.Delivery::json)
                .filter(e -> instance.equals(e.path("data").path("instance").asText())
                        || instance.equals(e.path("data").path("backend").asText()))
                .map(e -> e.path("type").asText()).toList();
    }

    @Test
    void theWholeLifeProvisionServeRefuseForceDestroy() throws Exception {
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> created = admin("POST", "/admin/compute/instances",
                    "{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":2,\"offer_id\":\"101\"}");
            assertEquals(201, created.statusCode(), created.body());
            JsonNode answer = json(created.body());
            assertEquals(0.8, answer.path("estimate_usd").asDouble());
            assertEquals("auto", answer.path("tier").asText());
            assertTrue(answer.path("estimate").asText().contains("$0.4000/h x 2 h"), answer.toString());
            String id = answer.path("instance").path("id").asText();
            assertTrue(id.matches("mg-main-gw-[0-9a-f]{8}"), id);

            Path keyFile = stateDir().resolve("compute-keys").resolve(id + ".key");
            String key = Files.readString(keyFile).strip();
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
            JsonNode ask = vastai().received("PUT", "/api/v0/asks/101/").get(0).body();
            assertEquals(id, ask.path("label").asText());
            assertTrue(ask.path("args").toString().contains("\"--api-key\",\"" + key + "\""), ask.toString());

            JsonNode ready = awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
            assertEquals("http://127.0.0.1:" + machine.port(), ready.path("endpoint").asText());

            // Chat traffic flows through it, with its own key.
            HttpResponse<String> chat = gateway.post("/v1/chat/completions", chat("main-model", false));
            assertEquals(200, chat.statusCode(), chat.body());
            assertEquals("Bearer " + key, machine.lastCompletion().headers.get("authorization"));

            // A stream is running: destroy is refused; forced, it drains first and the stream completes.
            machine.always(Behavior.stream(30).tokenDelay(100));
            CompletableFuture<HttpResponse<String>> stream = gateway.postAsync("/v1/chat/completions",
                    chat("main-model", true));
            machine.awaitCompletion(java.time.Duration.ofSeconds(5));
            HttpResponse<String> refused = admin("DELETE", "/admin/compute/instances/" + id, null);
            assertEquals(409, refused.statusCode(), refused.body());
            assertEquals("instance_busy", json(refused.body()).path("error").path("code").asText());
            assertEquals(1, vastai().instances.size(), "nothing destroyed");

            HttpResponse<String> destroyed = admin("DELETE", "/admin/compute/instances/" + id
                    + "?force=true&deadline_seconds=20", null);
            assertEquals(200, destroyed.statusCode(), destroyed.body());
            assertEquals("destroyed", json(destroyed.body()).path("state").asText());
            HttpResponse<String> streamed = stream.get(20, TimeUnit.SECONDS);
            assertTrue(streamed.body().contains("[DONE]") && !streamed.body().contains("\"error\""),
                    "the stream was drained, not cut: " + streamed.body());
            assertTrue(vastai().instances.isEmpty(), "destroyed at the provider");
            assertFalse(Files.exists(keyFile), "the key file goes with the instance");
            assertEquals(404, admin("GET", "/admin/backends/" + id, null).statusCode(), "deregistered");

            // Every step in the tracked file and as a webhook.
            String trackedFile = Files.readString(stateDir().resolve("tracked-instances.jsonl"));
            List<String> actions = trackedFile.lines().map(GatewayTest::json)
                    .filter(r -> id.equals(r.path("instance").asText()))
                    .map(r -> r.path("action").asText() + ":" + r.path("result").asText()).toList();
            assertEquals(List.of("provision:intent", "provision:ok", "ready:ok", "destroy:intent", "destroy:ok"),
                    actions);
            long until = System.currentTimeMillis() + 10_000;
            while (System.currentTimeMillis() < until && !events(id).contains("compute.destroyed")) {
                Thread.sleep(100);
            }
            List<String> events = events(id);
            for (String type : List.of("compute.provisioned", "backend.registered", "compute.ready",
                    "backend.deregistered", "compute.destroyed")) {
                assertTrue(events.contains(type), type + " in " + events);
            }

            // The key is nowhere but its file and the launch arguments.
            String webhookBodies = FakeBackends.webhooks().deliveries().stream().map(WebhookReceiver.Delivery::body)
                    .reduce("", String::concat);
            String audit = Files.readString(stateDir().resolve("audit.jsonl"));
            String views = admin("GET", "/admin/compute/instances", null).body()
                    + admin("GET", "/admin/backends", null).body() + created.body() + destroyed.body();
            for (String where : List.of(trackedFile, webhookBodies, audit, views, logs.text())) {
                assertFalse(where.contains(key), "the instance key leaked");
                assertFalse(where.contains(FakeBackends.VASTAI_KEY), "the provider key leaked");
            }
        }
    }

    @Test
    void anInstanceThatNeverServesIsDestroyedAtItsDeadline() throws Exception {
        vastai().createdStatus = "loading";
        vastai().createdMessage = "pulling image vllm/vllm-openai:v0.7.3";
        HttpResponse<String> created = admin("POST", "/admin/compute/instances", "{\"provider\":\"vastai\","
                + "\"recipe\":\"main\",\"hours\":1,\"offer_id\":\"101\",\"readiness_deadline_seconds\":2}");
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).path("instance").path("id").asText();
        JsonNode waiting = awaitInstance(id, v -> v.path("provider_message").asText().contains("pulling"), 10_000);
        assertEquals("waiting", waiting.path("state").asText());
        JsonNode failed = awaitInstance(id, v -> v.path("state").asText().equals("destroyed"), 20_000);
        assertTrue(failed.path("failure").asText().contains("readiness deadline"), failed.toString());
        assertTrue(failed.path("failure").asText().contains("pulling image"), "the provider's reason is kept");
        assertTrue(vastai().instances.isEmpty());
    }

    @Test
    void costTiersRefuseWithTheEstimateUntilConfirmed() {
        HttpResponse<String> refused = admin("POST", "/admin/compute/instances",
                "{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":60,\"offer_id\":\"101\"}");
        assertEquals(402, refused.statusCode(), refused.body());
        JsonNode error = json(refused.body()).path("error");
        assertEquals("estimate_needs_confirmation", error.path("code").asText());
        assertEquals(24.0, error.path("estimate_usd").asDouble());
        assertTrue(vastai().received("PUT", "/api/v0/asks/").isEmpty(), "nothing launched");
        assertEquals(400, admin("POST", "/admin/compute/instances",
                "{\"provider\":\"vastai\",\"recipe\":\"main\",\"offer_id\":\"101\"}").statusCode(), "hours required");
    }

    @Test
    void aProviderThatIsDownIsAClearErrorAndNothingIsRecordedAsDone() throws Exception {
        Path file = stateDir().resolve("tracked-instances.jsonl");
        long before = Files.exists(file) ? Files.readAllLines(file).size() : 0;
        vastai().tooMany.set(100);
        HttpResponse<String> down = admin("POST", "/admin/compute/instances",
                "{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":1,\"offer_id\":\"101\"}");
        assertEquals(503, down.statusCode(), down.body());
        JsonNode error = json(down.body()).path("error");
        assertEquals("provider_rate_limited", error.path("code").asText());
        assertTrue(error.path("message").asText().contains("Vast.ai"));
        vastai().tooMany.set(0);
        assertEquals(before, Files.exists(file) ? Files.readAllLines(file).size() : 0, "nothing tracked as done");
        assertTrue(vastai().received("PUT", "/api/v0/asks/").isEmpty(), "nothing launched");
    }

    @Test
    void theLeakWatchReportsAnUntrackedBillingInstanceAndAFailedListAsAnError() throws Exception {
        String leak = vastai().addInstance("someone-elses", "running").path("id").asText();
        JsonNode report = json(admin("GET", "/admin/compute/leaks?refresh=true", null).body());
        assertTrue(report.path("leaks").toString().contains("\"provider_id\":\"" + leak + "\""), report.toString());
        assertTrue(vastai().instances.containsKey(leak), "reported, never touched");
        long until = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < until && FakeBackends.webhooks().deliveries().stream()
                .noneMatch(d -> d.body().contains("compute.leak_found") && d.body().contains(leak))) {
            Thread.sleep(100);
        }
        assertTrue(FakeBackends.webhooks().deliveries().stream()
                .anyMatch(d -> d.body().contains("compute.leak_found") && d.body().contains(leak)));
        // A serving instance that disappears is noticed by the watch's re-read (the leak watch would report it as
        // tracked_but_gone until then): marked destroyed with the reason, its spend settled.
        String tracked = provisionReady();
        vastai().instances.clear();
        JsonNode gone = awaitInstance(tracked, v -> v.path("state").asText().equals("destroyed"), 10_000);
        assertTrue(gone.path("failure").asText().contains("gone"), gone.toString());
        assertFalse(admin("GET", "/admin/compute/leaks?refresh=true", null).body().contains(tracked));
        vastai().listOverride = "{\"instances\":\"gone\"}";
        JsonNode failed = json(admin("GET", "/admin/compute/leaks?refresh=true", null).body());
        assertEquals("provider_bad_answer", failed.path("errors").get(0).path("code").asText(), failed.toString());
    }

    private String provisionReady() throws Exception {
        HttpResponse<String> created = admin("POST", "/admin/compute/instances",
                "{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":1,\"offer_id\":\"101\"}");
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).path("instance").path("id").asText();
        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
        return id;
    }

    @Test
    void stopStartReconfigureAndASuccessThatDidNotApply() throws Exception {
        String id = provisionReady();
        String providerId = json(admin("GET", "/admin/compute/instances/" + id, null).body())
                .path("provider_id").asText();

        HttpResponse<String> stopped = admin("POST", "/admin/compute/instances/" + id + "/stop", null);
        assertEquals(200, stopped.statusCode(), stopped.body());
        assertEquals("stopped", json(stopped.body()).path("state").asText());
        assertEquals("stopped", vastai().instances.get(providerId).path("actual_status").asText());
        assertEquals(404, admin("GET", "/admin/backends/" + id, null).statusCode(), "out of the fleet");
        JsonNode spend = json(admin("GET", "/admin/compute/spend", null).body());
        assertTrue(spend.path("note").asText().contains("Stopped is not free"), spend.toString());
        assertTrue(spend.toString().contains("\"stopped_usd_per_hour\""), spend.toString());

        HttpResponse<String> started = admin("POST", "/admin/compute/instances/" + id + "/start", null);
        assertEquals(200, started.statusCode(), started.body());
        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);

        HttpResponse<String> reconfigured = admin("POST", "/admin/compute/instances/" + id + "/reconfigure",
                "{\"args\":[\"--max-num-seqs\",\"64\"]}");
        assertEquals(200, reconfigured.statusCode(), reconfigured.body());
        JsonNode template = vastai().received("PUT", "/api/v0/instances/update_template/").get(0).body();
        assertTrue(template.path("args").toString().contains("\"--max-num-seqs\",\"64\""), template.toString());
        assertTrue(template.path("args").toString().contains("--api-key"), "the key stays");
        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);

        vastai().stateChangesApply = false;
        HttpResponse<String> notApplied = admin("POST", "/admin/compute/instances/" + id + "/stop", null);
        assertEquals(502, notApplied.statusCode(), notApplied.body());
        assertEquals("state_not_applied", json(notApplied.body()).path("error").path("code").asText());
        assertEquals("running", vastai().instances.get(providerId).path("actual_status").asText());
        String tracked = Files.readString(stateDir().resolve("tracked-instances.jsonl"));
        assertTrue(tracked.lines().anyMatch(l -> l.contains(id) && l.contains("\"action\":\"stop\"")
                && l.contains("\"result\":\"state_not_applied\"")), "the failure is tracked");
        // Not stopped, so it goes back into service.
        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
        vastai().stateChangesApply = true;
        assertEquals(200, admin("DELETE", "/admin/compute/instances/" + id + "?force=true", null).statusCode());
    }

    @Test
    void aCreateThatTimesOutIsLookedUpByLabelAndAdopted() throws Exception {
        vastai().createAnswerDelayMs = 5000;
        HttpResponse<String> timedOut = admin("POST", "/admin/compute/instances",
                "{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":1,\"offer_id\":\"101\"}");
        assertEquals(201, timedOut.statusCode(), timedOut.body());
        JsonNode answer = json(timedOut.body());
        assertTrue(answer.path("adopted").asBoolean(), answer.toString());
        assertTrue(answer.path("warning").asText().contains("did not answer within"), answer.toString());
        assertEquals(1, vastai().instances.size(), "one machine, tracked");
        String id = answer.path("instance").path("id").asText();
        assertEquals(vastai().instances.keySet().iterator().next(), answer.path("instance").path("provider_id")
                .asText());
        String tracked = Files.readString(stateDir().resolve("tracked-instances.jsonl"));
        List<String> actions = tracked.lines().map(GatewayTest::json)
                .filter(r -> id.equals(r.path("instance").asText()))
                .map(r -> r.path("action").asText() + ":" + r.path("result").asText()).toList();
        assertEquals(List.of("provision:intent", "provision:provider_timeout", "adopt:ok"), actions);
        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
        assertEquals(200, admin("DELETE", "/admin/compute/instances/" + id + "?force=true", null).statusCode());
    }

    /** A RunPod pod of recipe main whose "proxy" is the test's FakeVllm machine. */
    private HttpResponse<String> provisionPod() {
        FakeBackends.runpod().reset();
        FakeBackends.runpod().nextPodId = Integer.toString(machine.port());
        return admin("POST", "/admin/compute/instances", "{\"provider\":\"runpod\",\"recipe\":\"main\",\"hours\":1,"
                + "\"offer_id\":\"NVIDIA GeForce RTX 3090\"}");
    }

    @Test
    void theOfferPriceCeilingHoldsEvenWhenTheProviderIgnoresIt() {
        vastai().offers.add(FakeVastAi.offer(102, "A100", 81920, 1.90, 0.99)); // the fake does not filter by price
        JsonNode all = json(admin("GET", "/admin/compute/offers?provider=vastai", null).body());
        assertTrue(all.toString().contains("\"102\""), all.toString());
        JsonNode capped = json(admin("GET", "/admin/compute/offers?provider=vastai&max_usd_per_hour=0.5", null)
                .body());
        assertTrue(capped.toString().contains("\"101\""), capped.toString());
        assertFalse(capped.toString().contains("\"102\""), "over the ceiling: " + capped);
    }

    @Test
    void aRunPodPodIsLockedWhileItServesAndUnlockedOnlyAfterTheDrain() throws Exception {
        var runpod = FakeBackends.runpod();
        HttpResponse<String> created = provisionPod();
        assertEquals(201, created.statusCode(), created.body());
        JsonNode answer = json(created.body());
        assertEquals(0.44, answer.path("estimate_usd").asDouble(), "$0.43/h x 1 h + 64 GB disk storage");
        String id = answer.path("instance").path("id").asText();
        JsonNode pod = runpod.received("POST", "/v2/pods").get(0).body();
        assertEquals(id, pod.path("name").asText());
        assertEquals("[\"8000/http\"]", pod.path("ports").toString());

        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
        String podId = runpod.nextPodId;
        assertTrue(runpod.pods.get(podId).path("locked").asBoolean(), "locked while it serves");

        HttpResponse<String> stopped = admin("POST", "/admin/compute/instances/" + id + "/stop", null);
        assertEquals(200, stopped.statusCode(), stopped.body());
        List<String> calls = runpod.received().stream().filter(r -> r.path().startsWith("/v2/pods/" + podId)
                && !r.method().equals("GET")).map(r -> r.method() + " " + r.raw()).toList();
        assertEquals(List.of("PATCH {\"locked\":true}", "PATCH {\"locked\":false}", "POST {\"action\":\"stop\"}"),
                calls);
        JsonNode spend = json(admin("GET", "/admin/compute/spend", null).body());
        assertTrue(spend.toString().contains("\"stopped_usd_per_hour\":0.0175"), "64 GB x $0.20/GB/month: " + spend);
        assertEquals(200, admin("DELETE", "/admin/compute/instances/" + id, null).statusCode());
        assertTrue(runpod.pods.isEmpty());
    }

    @Test
    void aFailedUnlockLeavesThePodServingAndReportedAndATransientOneIsRetried() throws Exception {
        var runpod = FakeBackends.runpod();
        HttpResponse<String> created = provisionPod();
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).path("instance").path("id").asText();
        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
        String podId = runpod.nextPodId;

        // RunPod keeps refusing the unlock: nothing else happens, the pod still serves, the error says so.
        runpod.failUnlocks.set(100);
        HttpResponse<String> refused = admin("DELETE", "/admin/compute/instances/" + id + "?force=true", null);
        assertEquals(502, refused.statusCode(), refused.body());
        assertEquals("unlock_failed", json(refused.body()).path("error").path("code").asText());
        JsonNode view = json(admin("GET", "/admin/compute/instances/" + id, null).body());
        assertEquals("ready", view.path("state").asText(), view.toString());
        assertTrue(view.path("backend").asText().startsWith(id), "still a backend: " + view);
        assertTrue(runpod.pods.get(podId).path("locked").asBoolean());
        HttpResponse<String> served = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals(200, served.statusCode(), served.body());
        assertTrue(machine.lastCompletion() != null, "the pod still serves its route");

        // One refusal, then RunPod answers: the retry unlocks it and the destroy goes through.
        runpod.failUnlocks.set(1);
        HttpResponse<String> destroyed = admin("DELETE", "/admin/compute/instances/" + id + "?force=true", null);
        assertEquals(200, destroyed.statusCode(), destroyed.body());
        assertTrue(runpod.pods.isEmpty());
    }

    @Test
    void anHtml404WhileLoadingIsAnErrorToRetryNotAGoneInstance() throws Exception {
        vastai().createdStatus = "loading";
        vastai().readNotFoundBody = "<html><body><h1>404 Not Found</h1></body></html>";
        HttpResponse<String> created = admin("POST", "/admin/compute/instances", "{\"provider\":\"vastai\","
                + "\"recipe\":\"main\",\"hours\":1,\"offer_id\":\"101\"}");
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).path("instance").path("id").asText();
        // Several polls (every 200 ms) read the 404: before, the first one destroyed the loading instance.
        awaitInstance(id, v -> v.path("provider_message").asText("").contains("404"), 10_000);
        Thread.sleep(1000);
        JsonNode polled = json(admin("GET", "/admin/compute/instances/" + id, null).body());
        assertEquals("waiting", polled.path("state").asText(), polled.toString());
        assertEquals(1, vastai().instances.size(), "nothing destroyed");
        assertTrue(vastai().received().stream().noneMatch(r -> r.method().equals("DELETE")), "no DELETE sent");
        vastai().readNotFoundBody = null;
        vastai().instances.values().forEach(i -> i.put("actual_status", "running"));
        awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
        assertEquals(200, admin("DELETE", "/admin/compute/instances/" + id + "?force=true", null).statusCode());
    }

    @Test
    void aProviderMessageEchoingTheInstanceKeyIsRedactedEverywhere() throws Exception {
        vastai().createdStatus = "created";
        vastai().createdMessage = "OCI runtime create failed: exec: vllm {args}: permission denied";
        HttpResponse<String> created = admin("POST", "/admin/compute/instances", "{\"provider\":\"vastai\","
                + "\"recipe\":\"main\",\"hours\":1,\"offer_id\":\"101\"}");
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).path("instance").path("id").asText();
        String key = Files.readString(stateDir().resolve("compute-keys").resolve(id + ".key")).strip();
        JsonNode failed = awaitInstance(id, v -> v.path("state").asText().equals("failed")
                || v.path("state").asText().equals("destroyed"), 15_000);
        assertTrue(failed.toString().contains("OCI runtime create failed"), failed.toString());
        assertTrue(failed.toString().contains("--api-key [redacted]"), failed.toString());
        for (String text : List.of(failed.toString(), admin("GET", "/admin/compute/instances", null).body(),
                Files.readString(stateDir().resolve("tracked-instances.jsonl")))) {
            assertFalse(text.contains(key), "the instance key was repeated: " + text);
        }
    }

    @Test
    void anIdleInstanceThatAskedForItIsStoppedThroughTheGuard() throws Exception {
        HttpResponse<String> created = admin("POST", "/admin/compute/instances", "{\"provider\":\"vastai\","
                + "\"recipe\":\"main\",\"hours\":1,\"offer_id\":\"101\",\"idle_stop_minutes\":1}");
        assertEquals(201, created.statusCode(), created.body());
        String id = json(created.body()).path("instance").path("id").asText();
        JsonNode ready = awaitInstance(id, v -> v.path("state").asText().equals("ready"), 30_000);
        assertEquals(1, ready.path("idle_stop_minutes").asInt());
        // One minute without traffic (the unit is minutes), then the next poll stops it.
        awaitInstance(id, v -> v.path("state").asText().equals("stopped"), 100_000);
        assertEquals(404, admin("GET", "/admin/backends/" + id, null).statusCode(), "out of the fleet");
        String tracked = Files.readString(stateDir().resolve("tracked-instances.jsonl"));
        assertTrue(tracked.lines().anyMatch(l -> l.contains(id) && l.contains("\"action\":\"stop\"")
                && l.contains("\"caller\":\"gateway\"") && l.contains("\"result\":\"ok\"")), tracked);
        assertEquals(200, admin("DELETE", "/admin/compute/instances/" + id, null).statusCode());
    }
}

package org.canonic.gateway.health;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.canonic.gateway.testing.AdminView.state;
import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Active probes take failing backends out of rotation and bring them back only after they proved themselves. */
@QuarkusTest
@TestProfile(HealthProfile.class)
class ProbeTest extends GatewayTest {

    private AdminView admin;

    @BeforeEach
    void adminView() {
        // Breakers another test class of this profile opened must not decide these tests' routing.
        resetBreakers();
        admin = new AdminView(gateway);
    }

    @Test
    void aBackendWhoseHealthFailsLeavesTheRotationAfterNProbesAndReturnsAfterMGoodOnes() throws Exception {
        alpha().healthStatus(503);
        int healthHitsBefore = healthHits();
        admin.await("alpha", state("DOWN"), 3000);
        assertTrue(healthHits() - healthHitsBefore >= HealthProfile.FAILURES_TO_DOWN,
                "DOWN only after " + HealthProfile.FAILURES_TO_DOWN + " failed probes");

        HttpResponse<String> whileDown = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals("beta", whileDown.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals(0, alpha().completionRequests().size(), "a DOWN backend receives no chat traffic");

        alpha().healthStatus(200);
        // Hysteresis: the first good probe only starts the recovery, it does not make the backend UP.
        JsonNode recovering = admin.await("alpha", b -> b.get("reason").asText().startsWith("recovering: 1 of "
                + HealthProfile.SUCCESSES_TO_UP) || state("UP").test(b), 3000);
        assertEquals("DOWN", recovering.get("state").asText(), "UP only after " + HealthProfile.SUCCESSES_TO_UP
                + " good probes; was " + recovering);
        admin.await("alpha", state("UP"), 3000);

        HttpResponse<String> afterRecovery = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals("alpha", afterRecovery.headers().firstValue("x-gateway-provider").orElse(null));
    }

    @Test
    void aBackendServingAnotherModelIsDownForModelMismatch() throws Exception {
        beta().servedModel("someone/else");
        JsonNode down = admin.await("beta", state("DOWN"), 3000);
        assertTrue(down.get("reason").asText().contains("model mismatch"), down.toString());
        assertTrue(down.get("reason").asText().contains("someone/else"), down.toString());

        alpha().always(org.canonic.gateway.testing.Behavior.status(500));
        HttpResponse<String> response = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals(0, beta().completionRequests().size(), "the mismatched backend is skipped");
        assertEquals("omega", response.headers().firstValue("x-gateway-provider").orElse(null));
        beta().servedModel(org.canonic.gateway.testing.FakeBackends.BETA_MODEL);
    }

    @Test
    void theContextWindowIsLearnedFromV1Models() throws Exception {
        alpha().maxModelLen(32768);
        JsonNode learned = admin.await("alpha", b -> b.get("maxModelLen").asInt() == 32768, 3000);
        assertEquals(32768, learned.get("maxModelLen").asInt());
        assertTrue(alpha().allRequests().stream().anyMatch(r -> r.path.equals("/v1/models")
                && ("Bearer " + org.canonic.gateway.testing.FakeBackends.ALPHA_KEY).equals(r.headers.get("authorization"))),
                "/v1/models is read with the backend's key");
    }

    @Test
    void probesNeverCallACompletion() throws Exception {
        Thread.sleep(600);
        for (var fake : List.of(alpha(), beta(), omega())) {
            List<String> paths = fake.allRequests().stream().map(r -> r.path).distinct().toList();
            assertTrue(paths.contains("/health") && paths.contains("/v1/models"), paths.toString());
            assertEquals(0, fake.completionRequests().size(), "probes must not cost a completion: " + paths);
        }
    }

    @Test
    void whenARouteLosesItsLastBackendItsOwnCheckFlipsAndRequestsGet503AtOnce() throws Exception {
        alpha().healthStatus(500);
        omega().healthStatus(500);
        admin.await("alpha", state("DOWN"), 3000);
        admin.await("omega", state("DOWN"), 3000);

        // The replica still serves route main (beta), so it stays ready; the route that lost everything says so.
        HttpResponse<String> ready = management.get("/q/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"route.solo\": \"DOWN\"") || ready.body().contains("\"route.solo\":\"DOWN\""),
                ready.body());
        HttpResponse<String> summary = gateway.get("/health");
        assertEquals(200, summary.statusCode(), "some route serves: " + summary.body());
        assertEquals("DEGRADED", json(summary.body()).at("/status").asText());
        assertEquals("DOWN", json(summary.body()).at("/routes/solo").asText());
        assertEquals("UP", json(summary.body()).at("/routes/main").asText());
        assertEquals(503, gateway.get("/health/solo").statusCode());
        assertEquals(200, gateway.get("/health/main").statusCode());
        assertEquals(404, gateway.get("/health/nope").statusCode());
        assertTrue(!summary.body().contains("alpha") && !summary.body().contains("127.0.0.1"),
                "the public summary names no backend and no URL: " + summary.body());

        long start = System.nanoTime();
        HttpResponse<String> refused = gateway.post("/v1/chat/completions", chat("solo-model", true));
        assertTrue((System.nanoTime() - start) / 1_000_000 < 1000, "refused at once");
        assertEquals(503, refused.statusCode());
        assertTrue(refused.headers().firstValue("retry-after").isPresent());
        JsonNode error = json(refused.body()).get("error");
        assertEquals("no_backend_available", error.get("code").asText());
        assertTrue(error.get("message").asText().contains("alpha DOWN"), error.toString());
        assertEquals(0, alpha().completionRequests().size() + omega().completionRequests().size());

        alpha().healthStatus(200);
        omega().healthStatus(200);
        awaitReady();
        assertEquals(200, gateway.get("/health").statusCode());
    }

    @Test
    void withEveryBackendDownTheReplicaStaysReadyAndAnswersJson503s() throws Exception {
        List<org.canonic.gateway.testing.FakeVllm> all = List.of(alpha(), beta(), omega(),
                org.canonic.gateway.testing.FakeBackends.small(), org.canonic.gateway.testing.FakeBackends.medium(),
                org.canonic.gateway.testing.FakeBackends.large());
        try {
            all.forEach(fake -> fake.healthStatus(500));
            // The probe-less backend of route "refused" is drained, so that no route has anything left.
            assertEquals(202, adminCall("POST", "/admin/backends/dead/drain").statusCode());
            for (String name : List.of("alpha", "beta", "omega", "small", "medium", "large")) {
                admin.await(name, state("DOWN"), 5000);
            }
            assertEquals(503, gateway.get("/health").statusCode(), "no route serves: " + gateway.get("/health").body());

            // Readiness is "this process answers": out of the Service, clients would get the tunnel's HTML 502
            // instead of this JSON 503 with Retry-After. What the routes can do is in the data and in /health.
            HttpResponse<String> ready = management.get("/q/health/ready");
            assertEquals(200, ready.statusCode(), ready.body());
            assertTrue(ready.body().replace(" ", "").contains("\"route.main\":\"DOWN\""), ready.body());
            HttpResponse<String> refused = gateway.post("/v1/chat/completions", chat("main-model", false));
            assertEquals(503, refused.statusCode());
            assertTrue(refused.headers().firstValue("retry-after").isPresent());
            assertEquals("no_backend_available", json(refused.body()).at("/error/code").asText());
        } finally {
            all.forEach(fake -> fake.healthStatus(200));
            adminCall("POST", "/admin/backends/dead/undrain");
            awaitReady();
        }
    }

    private HttpResponse<String> adminCall(String method, String path) {
        return gateway.call(method, path, null, "authorization",
                "Bearer " + org.canonic.gateway.testing.FakeBackends.ADMIN_TOKEN);
    }

    @Test
    void theAdminViewNeedsTheToken() {
        assertEquals(401, gateway.get("/admin/backends").statusCode());
        assertEquals(401, gateway.get("/admin/backends", "authorization", "Bearer wrong").statusCode());
        HttpResponse<String> ok = gateway.get("/admin/backends", "authorization",
                "Bearer " + org.canonic.gateway.testing.FakeBackends.ADMIN_TOKEN);
        assertEquals(200, ok.statusCode());
        assertTrue(!ok.body().contains(org.canonic.gateway.testing.FakeBackends.ALPHA_KEY), "no upstream key shown");
    }

    private static int healthHits() {
        return (int) alpha().allRequests().stream().map(r -> r.path).filter("/health"::equals).count();
    }

}

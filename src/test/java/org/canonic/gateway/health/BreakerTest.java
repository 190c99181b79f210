package org.canonic.gateway.health;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.AdminView;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.canonic.gateway.testing.AdminView.breaker;
import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The per-backend circuit breaker learns from real traffic: backend faults (before or after the first token) open
 * it; request faults and departing clients never do.
 */
@QuarkusTest
@TestProfile(HealthProfile.class)
class BreakerTest extends GatewayTest {

    private AdminView admin;

    @BeforeEach
    void closedBreakers() throws Exception {
        resetBreakers();
        admin = new AdminView(gateway);
        admin.await("alpha", breaker("CLOSED"), 2000);
    }

    @Test
    void backendFaultsOpenTheBreakerWhichKeepsTheBackendOutUntilATrialSucceeds() throws Exception {
        alpha().always(Behavior.status(500));
        // solo-model: alpha (2 tries) then the fallback omega. Two requests = four faults = the whole window.
        gateway.post("/v1/chat/completions", chat("solo-model", false));
        gateway.post("/v1/chat/completions", chat("solo-model", false));
        admin.await("alpha", breaker("OPEN"), 2000);
        int alphaHits = alpha().completionRequests().size();

        HttpResponse<String> whileOpen = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals(200, whileOpen.statusCode());
        assertEquals("omega", whileOpen.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals(alphaHits, alpha().completionRequests().size(), "an open breaker keeps alpha out");

        alpha().always(Behavior.stream(2));
        Thread.sleep(HealthProfile.BREAKER_DELAY_MS + 100);
        HttpResponse<String> trial = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals("alpha", trial.headers().firstValue("x-gateway-provider").orElse(null), trial.body());
        admin.await("alpha", breaker("CLOSED"), 2000);
    }

    @Test
    void faultsAfterTheFirstTokenCountToo() throws Exception {
        alpha().always(Behavior.stream(10).dropAfter(2));
        for (int i = 0; i < 4; i++) {
            gateway.post("/v1/chat/completions", chat("solo-model", true));
        }
        admin.await("alpha", breaker("OPEN"), 2000);
    }

    @Test
    void requestFaultsAndDepartingClientsNeverOpenTheBreaker() throws Exception {
        alpha().always(Behavior.json(400, "{\"error\":{\"message\":\"bad temperature\",\"type\":\"BadRequestError\","
                + "\"param\":null,\"code\":400}}"));
        for (int i = 0; i < 6; i++) {
            assertEquals(400, gateway.post("/v1/chat/completions", chat("solo-model", false)).statusCode());
        }
        alpha().always(Behavior.json(400, "{\"error\":{\"message\":\"This model's maximum context length is 8192 "
                + "tokens. However, you requested 9000 tokens.\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}}"));
        for (int i = 0; i < 4; i++) {
            assertEquals(400, gateway.post("/v1/chat/completions", chat("solo-model", true)).statusCode());
        }
        alpha().always(Behavior.hang());
        for (int i = 0; i < 4; i++) {
            int before = alpha().completionRequests().size();
            try (RawHttp client = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("solo-model", false))) {
                while (alpha().completionRequests().size() == before) {
                    Thread.sleep(5);
                }
            }
            alpha().lastCompletion().closedEarly.get(2, java.util.concurrent.TimeUnit.SECONDS);
        }

        assertEquals("CLOSED", admin.backend("alpha").get("breaker").asText());
        alpha().always(Behavior.stream(2));
        HttpResponse<String> next = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals("alpha", next.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals(0, omega().completionRequests().size());
    }

    @Test
    void aHeaderStormTheBackendRefusesWith431IsRelayedNotRetriedAndNeverOpensTheBreaker() throws Exception {
        alpha().headerValueLimit(1024);
        String large = "s".repeat(4000);
        for (int i = 0; i < 8; i++) {
            HttpResponse<String> refused = gateway.post("/v1/chat/completions", chat("solo-model", false),
                    "x-session-id", large);
            assertEquals(431, refused.statusCode(), refused.body());
            assertEquals("invalid_request_error", json(refused.body()).at("/error/type").asText(), refused.body());
        }
        assertEquals(8, alpha().completionRequests().size(), "a request fault is never retried");
        assertEquals(0, omega().completionRequests().size(), "nor handed to another backend");
        assertEquals("CLOSED", admin.backend("alpha").get("breaker").asText());

        // A 19 KB header no backend needs is not forwarded at all: the backend never sees it.
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> padded = gateway.post("/v1/chat/completions", chat("solo-model", false),
                    "x-padding", "p".repeat(19_000));
            assertEquals(200, padded.statusCode(), padded.body());
            assertEquals("alpha", padded.headers().firstValue("x-gateway-provider").orElse(null));
        }
        assertNull(alpha().lastCompletion().headers.get("x-padding"));
        HttpResponse<String> other = gateway.post("/v1/chat/completions", chat("solo-model", false));
        assertEquals("alpha", other.headers().firstValue("x-gateway-provider").orElse(null), other.body());
        assertEquals("CLOSED", admin.backend("alpha").get("breaker").asText());
    }
}

package org.canonic.gateway.policy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LogCapture;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@TestProfile(AuthProfile.class)
class AuthTest extends GatewayTest {

    private static final String CI = "Bearer " + FakeBackends.CI_KEY;
    private static final String SOLO = "Bearer " + FakeBackends.SOLO_KEY;

    @Test
    void aMissingOrWrongKeyIs401AndNothingIsForwarded() {
        HttpResponse<String> missing = gateway.post("/v1/chat/completions", chat("main-model", false));
        assertEquals(401, missing.statusCode());
        assertEquals("missing_api_key", json(missing.body()).at("/error/code").asText());

        for (String wrong : List.of("Bearer nope", "Bearer " + FakeBackends.CI_KEY + "x", "Basic abc", "Bearer ",
                FakeBackends.CI_KEY)) {
            HttpResponse<String> refused = gateway.post("/v1/chat/completions", chat("main-model", false),
                    "authorization", wrong);
            assertEquals(401, refused.statusCode(), wrong);
            assertEquals("invalid_api_key", json(refused.body()).at("/error/code").asText());
        }
        assertEquals(0, alpha().completionRequests().size());
    }

    @Test
    void aValidKeyPassesAndIsNeverForwarded() {
        HttpResponse<String> ok = gateway.post("/v1/chat/completions", chat("main-model", false), "authorization", CI);
        assertEquals(200, ok.statusCode(), ok.body());
        assertFalse(alpha().lastCompletion().headers.toString().contains(FakeBackends.CI_KEY));
    }

    @Test
    void aKeyLimitedToARouteGets403ElsewhereAndSeesOnlyItsModels() {
        HttpResponse<String> forbidden = gateway.post("/v1/chat/completions", chat("main-model", false),
                "authorization", SOLO);
        assertEquals(403, forbidden.statusCode());
        assertEquals("model_not_allowed", json(forbidden.body()).at("/error/code").asText());
        assertEquals(0, alpha().completionRequests().size());

        assertEquals(200, gateway.post("/v1/chat/completions", chat("solo-model", false), "authorization", SOLO)
                .statusCode());

        HttpResponse<String> models = gateway.get("/v1/models", "authorization", SOLO);
        assertEquals(200, models.statusCode());
        assertTrue(models.body().contains("solo-model") && !models.body().contains("main-model"), models.body());
        assertEquals(401, gateway.get("/v1/models").statusCode());
    }

    @Test
    void unauthenticatedRequestsAreRefusedWhateverThePathTrick() throws Exception {
        for (String target : List.of("/v1//chat/completions", "/v1/chat/completions/", "/v1/./chat/completions",
                "/V1/chat/completions", "/v1/chat/completions;x=1")) {
            int status = RawHttp.status(RawHttp.exchange(gatewayPort(), "POST", target,
                    "Content-Type: application/json\r\n", chat("main-model", false)));
            assertTrue(status == 401 || status == 404, target + " answered " + status);
        }
        assertEquals(0, alpha().completionRequests().size());
    }

    /**
     * Issue 25, defect 10: a request pipelined behind a refusal that answers {@code Connection: close} was still
     * dispatched upstream. Nothing after such an answer may run, whatever it carries (here: a valid key).
     */
    @Test
    void nothingPipelinedBehindAClosingRefusalIsExecuted() throws Exception {
        String body = chat("main-model", false);
        String unauthenticated = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        String authenticated = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + CI
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        // The two requests reach the server in one segment; whether the second ran was a race: try it ten times.
        for (int round = 0; round < 10; round++) {
            try (RawHttp raw = RawHttp.connect(gatewayPort())) {
                raw.send(unauthenticated + authenticated);
                String refusal = raw.readResponse();
                assertEquals(401, RawHttp.status(refusal), refusal);
                assertTrue(refusal.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), refusal);
                assertTrue(raw.closedWithin(3_000), "the connection is closed after the refusal");
                assertFalse(raw.seen().contains("HTTP/1.1"), "no second answer: " + raw.seen());
            }
        }
        Thread.sleep(300);
        assertEquals(0, alpha().completionRequests().size(), "the pipelined request was never dispatched");
    }

    @Test
    void keyIdsNeverKeysAppearInLogs() {
        try (LogCapture logs = LogCapture.start()) {
            gateway.post("/v1/chat/completions", chat("main-model", false), "authorization", CI);
            gateway.post("/v1/chat/completions", chat("main-model", false), "authorization", "Bearer wrong-key-123");
            assertFalse(logs.text().contains(FakeBackends.CI_KEY), logs.text());
            assertFalse(logs.text().contains("wrong-key-123"), logs.text());
        }
    }

    @Test
    void oneModelNeedsTheKeyAndTheRoutePermissionTheListNeeds() {
        HttpResponse<String> missing = gateway.get("/v1/models/main-model");
        assertEquals(401, missing.statusCode(), missing.body());
        assertEquals("missing_api_key", json(missing.body()).at("/error/code").asText());
        assertEquals(401, gateway.get("/v1/models/main-model", "authorization", "Bearer nope").statusCode());

        assertEquals(200, gateway.get("/v1/models/main-model", "authorization", CI).statusCode());
        assertEquals(200, gateway.get("/v1/models/solo-model", "authorization", SOLO).statusCode());
        HttpResponse<String> forbidden = gateway.get("/v1/models/main-model", "authorization", SOLO);
        assertEquals(404, forbidden.statusCode(), "a route the key may not use is not listed, and not found");
        assertEquals("model_not_found", json(forbidden.body()).at("/error/code").asText());
    }
}

package org.canonic.gateway.api;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CORS per configured origin: preflights answered for the proxied endpoints, nothing for other origins. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
@TestProfile(CorsProfile.class)
class CorsTest extends GatewayTest {

    static HttpResponse<String> preflight(org.canonic.gateway.testing.GatewayClient client, String path,
                                          String origin) {
        return client.call("OPTIONS", path, null, "origin", origin, "access-control-request-method", "POST",
                "access-control-request-headers", "authorization, content-type");
    }

    @Test
    void aPreflightFromAnAllowedOriginPasses() {
        for (String path : new String[]{"/v1/chat/completions", "/v1/completions", "/v1/models"}) {
            HttpResponse<String> answer = preflight(gateway, path, CorsProfile.ALLOWED);
            assertEquals(204, answer.statusCode(), path);
            assertEquals(CorsProfile.ALLOWED, answer.headers().firstValue("access-control-allow-origin").orElse(null));
            String methods = answer.headers().firstValue("access-control-allow-methods").orElse("");
            assertTrue(methods.contains("POST") && methods.contains("GET"), methods);
            String headers = answer.headers().firstValue("access-control-allow-headers").orElse("").toLowerCase();
            assertTrue(headers.contains("authorization") && headers.contains("content-type"), headers);
            assertFalse(answer.headers().firstValue("access-control-allow-credentials").isPresent());
        }
    }

    @Test
    void theActualRequestFromAnAllowedOriginCarriesTheHeaders() {
        HttpResponse<String> answer = gateway.post("/v1/chat/completions", chat("main-model", false),
                "origin", CorsProfile.ALLOWED);
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals(CorsProfile.ALLOWED, answer.headers().firstValue("access-control-allow-origin").orElse(null));
        assertTrue(answer.headers().firstValue("access-control-expose-headers").orElse("").contains("x-request-id"));
        assertNotEquals("*", answer.headers().firstValue("access-control-allow-origin").orElse(null));
    }

    @Test
    void anotherOriginGetsNoCorsHeaders() {
        HttpResponse<String> answer = preflight(gateway, "/v1/chat/completions", "https://evil.example.net");
        assertNotEquals(204, answer.statusCode());
        assertTrue(answer.headers().map().keySet().stream().noneMatch(h -> h.startsWith("access-control-")),
                answer.headers().toString());
        HttpResponse<String> post = gateway.post("/v1/chat/completions", chat("main-model", false),
                "origin", "https://evil.example.net");
        assertTrue(post.headers().map().keySet().stream().noneMatch(h -> h.startsWith("access-control-")));
    }
}

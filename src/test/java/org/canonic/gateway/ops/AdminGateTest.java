package org.canonic.gateway.ops;

import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API's door: the token is checked from the headers before a byte of the body is read, admin bodies are
 * bounded, and every 413 (the admin bound, the server-wide bound Quarkus enforces) is OpenAI-shaped.
 */
@QuarkusTest
class AdminGateTest extends GatewayTest {

    /** Its refused requests count against an address of its own (see {@link RawHttp#connectFrom}). */
    private static final String FAILING_FROM = "127.0.0.3";

    private static final byte[] MEGABYTE = new byte[1024 * 1024];

    private String head(String method, String path, long contentLength, String extraHeaders) {
        return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + extraHeaders + "Content-Length: " + contentLength + "\r\n\r\n";
    }

    private static void assertOpenAiError(String answer, int status, String code) {
        assertEquals(status, RawHttp.status(answer), answer);
        String body = RawHttp.body(answer);
        assertTrue(body.contains("\"error\"") && body.contains("\"code\":\"" + code + "\""), answer);
        assertTrue(answer.toLowerCase().contains("content-type: application/json"), answer);
    }

    @Test
    void anUnauthenticatedBodyIsRefusedFromTheHeadersBeforeItIsSent() throws IOException {
        // 10 MB announced, 1 KB sent: the answer must come although the body never will.
        try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
            raw.send(head("POST", "/admin/lock", 10L * 1024 * 1024, "")).send(new byte[1024]);
            String answer = raw.readResponse();
            assertOpenAiError(answer, 401, "invalid_admin_token");
            assertTrue(answer.toLowerCase().contains("www-authenticate: bearer"), answer);
            assertTrue(raw.closedWithin(5_000), "the connection of a refused body is closed");
        }
        // Any spelling of an admin path goes through the same door.
        for (String path : new String[]{"/ADMIN/lock", "/v1/../admin/backends", "/admin/no-such-endpoint"}) {
            try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
                raw.send(head("POST", path, 10L * 1024 * 1024, "")).send(new byte[1024]);
                assertEquals(401, RawHttp.status(raw.readResponse()), path);
            }
        }
    }

    @Test
    void aClientThatWaitsFor100ContinueIsToldToGoOnOnlyOnceAuthenticated() throws IOException {
        String expect = "Expect: 100-continue\r\n";
        try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
            raw.send(head("POST", "/admin/lock", 20, expect));
            String answer = raw.readResponse();
            assertOpenAiError(answer, 401, "invalid_admin_token");
        }
        String body = "{\"ttl_seconds\":\"x\"}";
        try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
            raw.send(head("PUT", "/admin/lock/renew", body.length(), expect + "Authorization: Bearer "
                    + FakeBackends.ADMIN_TOKEN + "\r\n"));
            assertTrue(raw.readUntil("\r\n\r\n").startsWith("HTTP/1.1 100 Continue"), raw.seen());
            raw.readResponse();
            raw.send(body);
            assertOpenAiError(raw.readResponse(), 400, "invalid_ttl");
        }
    }

    @Test
    void anAdminBodyOverItsBoundIs413InOpenAisShape() throws IOException {
        String token = "Authorization: Bearer " + FakeBackends.ADMIN_TOKEN + "\r\n";
        try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
            raw.send(head("POST", "/admin/lock", 65 * 1024, token));
            assertOpenAiError(raw.readResponse(), 413, "request_too_large");
        }
        // Without a length: counted as it arrives.
        try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
            raw.send("POST /admin/lock HTTP/1.1\r\nHost: 127.0.0.1\r\n" + token
                    + "Transfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = ("{\"holder\":\"" + "x".repeat(40 * 1024) + "\"").getBytes(StandardCharsets.US_ASCII);
            raw.send(Integer.toHexString(chunk.length) + "\r\n").send(chunk).send("\r\n");
            raw.send(Integer.toHexString(chunk.length) + "\r\n").send(chunk).send("\r\n");
            assertOpenAiError(raw.readResponse(), 413, "request_too_large");
        }
        // Within the bound, the resource gets the whole body.
        String answer = RawHttp.exchange(gatewayPort(), "PUT", "/admin/lock/renew", token
                + "Content-Type: application/json\r\n", "{\"ttl_seconds\":60,\"pad\":\"" + "y".repeat(30_000) + "\"}");
        assertOpenAiError(answer, 400, "unknown_field");
    }

    @Test
    void aBodyOverTheServersOwnLimitGetsAnOpenAiShaped413() throws IOException {
        // 40 MB: over quarkus.http.limits.max-body-size (10 MB), which Quarkus refuses with an empty 413.
        long forty = 40L * 1024 * 1024;
        for (String path : new String[]{"/v1/chat/completions", "/health", "/no/such/path"}) {
            try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
                raw.send(head("POST", path, forty, "")).send(MEGABYTE).send(MEGABYTE);
                assertOpenAiError(raw.readResponse(), 413, "request_too_large");
            }
        }
        try (RawHttp raw = RawHttp.connectFrom(FAILING_FROM, gatewayPort())) {
            raw.send(head("POST", "/admin/lock", forty, "Authorization: Bearer " + FakeBackends.ADMIN_TOKEN + "\r\n"))
                    .send(MEGABYTE);
            assertOpenAiError(raw.readResponse(), 413, "request_too_large");
        }
    }
}

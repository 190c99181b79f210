package org.canonic.gateway.ops;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayClient;
import org.canonic.gateway.testing.Metrics;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.canonic.gateway.ops.AdminClient.error;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin bearer check over real HTTP. Failures from 127.0.0.1 stay few (other admin tests share that address);
 * the rate-limit test speaks from 127.0.0.2.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class AdminAuthTest {

    @TestHTTPResource("/")
    URL url;

    @TestHTTPResource(value = "/", management = true)
    URL managementUrl;

    private AdminClient client;

    @BeforeEach
    void client() throws Exception {
        client = new AdminClient(url.toURI());
    }

    @Test
    void aMissingOrWrongTokenIs401OpenAiShapedAndCounted() throws Exception {
        GatewayClient gateway = new GatewayClient(url.toURI());
        double before = Metrics.scrape(new GatewayClient(managementUrl.toURI())).sum("gateway_admin_auth_failures_total");
        List<String[]> wrong = List.of(new String[]{}, new String[]{"authorization", "Bearer wrong-token"},
                new String[]{"authorization", "Basic " + FakeBackends.ADMIN_TOKEN},
                new String[]{"authorization", FakeBackends.ADMIN_TOKEN});
        for (String[] headers : wrong) {
            HttpResponse<String> refused = client.send("GET", "/admin/lock", null, headers);
            assertEquals(401, refused.statusCode(), String.join(" ", headers));
            assertEquals("invalid_admin_token", error(refused).get("code").asText());
            assertEquals("authentication_error", error(refused).get("type").asText());
        }
        assertEquals(before + wrong.size(), Metrics.scrape(new GatewayClient(managementUrl.toURI())).sum("gateway_admin_auth_failures_total"));
    }

    @Test
    void theBearerSchemeIsMatchedInAnyCase() {
        for (String scheme : List.of("Bearer", "bearer", "BEARER", "bEaReR")) {
            HttpResponse<String> ok = client.send("GET", "/admin/lock", null, "authorization",
                    scheme + " " + FakeBackends.ADMIN_TOKEN);
            assertEquals(200, ok.statusCode(), scheme + ": " + ok.body());
        }
    }

    @Test
    void unknownAdminPathsAreHiddenBehindTheSameCheck() {
        assertEquals(401, client.send("GET", "/admin/nothing-here", null).statusCode());
        HttpResponse<String> missing = client.admin("GET", "/admin/nothing-here", null);
        assertEquals(404, missing.statusCode());
        assertEquals("not_found", error(missing).get("code").asText());
        assertEquals(200, client.admin("GET", "/admin/backends", null).statusCode(), "real resources still win");
    }

    @Test
    void tooManyFailuresFromOneAddressAre429ButTheRightTokenStillPasses() throws Exception {
        int port = url.getPort();
        for (int i = 1; i <= 10; i++) {
            assertEquals(401, RawFrom.status(RawFrom.get("127.0.0.2", port, "/admin/lock", "Bearer nope-" + i)),
                    "failure " + i + " is still within the allowance");
        }
        String limited = RawFrom.get("127.0.0.2", port, "/admin/lock", "Bearer nope-11");
        assertEquals(429, RawFrom.status(limited), limited);
        String retryAfter = RawFrom.header(limited, "retry-after");
        assertTrue(retryAfter != null && Long.parseLong(retryAfter) >= 1 && Long.parseLong(retryAfter) <= 60,
                limited);
        assertTrue(limited.contains("\"code\":\"too_many_auth_failures\"") && limited.contains("\"type\":"), limited);
        assertEquals(200, RawFrom.status(RawFrom.get("127.0.0.2", port, "/admin/lock", AdminClient.AUTH)),
                "the operator is never locked out by someone else's failures");
        assertEquals(401, client.send("GET", "/admin/lock", null, "authorization", "Bearer other").statusCode(),
                "other addresses keep their own allowance");
    }

    /** Raw HTTP from a chosen loopback address, so the limiter sees a client of its own. */
    static final class RawFrom {
        static String get(String from, int port, String path, String authorization) throws IOException {
            try (Socket socket = new Socket(InetAddress.getByName("127.0.0.1"), port, InetAddress.getByName(from), 0)) {
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: "
                        + authorization + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            }
        }

        static int status(String answer) {
            return Integer.parseInt(answer.substring(9, 12));
        }

        static String header(String answer, String name) {
            for (String line : answer.split("\r\n")) {
                if (line.isEmpty()) {
                    break;
                }
                if (line.toLowerCase().startsWith(name + ":")) {
                    return line.substring(name.length() + 1).strip();
                }
            }
            return null;
        }
    }
}

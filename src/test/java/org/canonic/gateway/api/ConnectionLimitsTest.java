package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.GatewayClient;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.HostileProfile;
import org.canonic.gateway.testing.LogCapture;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.small;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.canonic.gateway.testing.HostileProfile.HEADER_TIMEOUT_MS;
import static org.canonic.gateway.testing.HostileProfile.IDLE_TIMEOUT_MS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections are bounded: a request head or body must arrive in time, an idle keep-alive connection is closed, a
 * client address may hold only so many connections, and {@code Connection: close} means close. Requests in flight
 * (a slow stream, a long silent non-stream wait) are never cut by these clocks.
 */
@QuarkusTest
@TestProfile(HostileProfile.class)
class ConnectionLimitsTest extends GatewayTest {

    private LogCapture logs;

    @BeforeEach
    void captureLogs() {
        logs = LogCapture.start();
    }

    @AfterEach
    void noErrorWithoutARequestOrBackend() {
        logs.close();
        assertEquals(List.of(), logs.errorsWithoutContext(), "every error names a request or a backend");
    }

    /** A cheap request the API port answers 200 (the public health summary). */
    private static final String HEALTH = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeout() throws Exception {
        try (RawHttp client = RawHttp.connect(gatewayPort())) {
            long start = System.nanoTime();
            assertTrue(client.closedWithin(HEADER_TIMEOUT_MS + 3000), "a silent connection must be closed");
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms >= HEADER_TIMEOUT_MS - 300, "closed after " + ms + " ms: too early");
        }
    }

    @Test
    void aRequestHeadDrippedByteByByteIsCutAtTheHeaderTimeout() throws Exception {
        byte[] head = ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "X-Session-Id: drip\r\n").getBytes(StandardCharsets.US_ASCII);
        try (RawHttp client = RawHttp.connect(gatewayPort())) {
            long start = System.nanoTime();
            boolean closed = false;
            for (int i = 0; i < head.length && !closed; i++) {
                client.send(new byte[] {head[i]});
                closed = client.closedWithin(250);
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(closed, "a dripping request head must be cut");
            assertTrue(ms < HEADER_TIMEOUT_MS + 2000, "cut after " + ms + " ms");
        }
    }

    @Test
    void aBodyThatStallsGets408InOpenAiShape() throws Exception {
        try (RawHttp client = RawHttp.connect(gatewayPort())) {
            client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 100\r\n\r\n{");
            long start = System.nanoTime();
            String answer = null;
            for (int i = 0; i < 20 && answer == null; i++) {
                client.send(" ");
                if (client.closedWithin(300) || client.seen().contains("\r\n\r\n")) {
                    answer = client.seen();
                }
            }
            assertNotNull(answer, "a dripping body must be answered");
            assertEquals(408, RawHttp.status(answer), answer);
            assertEquals("request_timeout", json(RawHttp.body(answer)).at("/error/code").asText(), answer);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < HostileProfile.BODY_TIMEOUT_MS + 2000, "answered after " + ms + " ms");
            assertEquals(0, alpha().completionRequests().size());
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeoutNotBefore() throws Exception {
        try (RawHttp client = RawHttp.connect(gatewayPort())) {
            assertEquals(200, RawHttp.status(client.send(HEALTH).readResponse()));
            assertFalse(client.closedWithin(IDLE_TIMEOUT_MS - 1000),
                    "between requests the idle clock applies, not the (shorter) header clock");
            assertTrue(client.closedWithin(3000), "an idle keep-alive connection must be closed");
        }
    }

    @Test
    void requestsInFlightOutliveTheConnectionClocks() {
        // Silent for longer than the idle clock: a non-stream answer arrives only once generated.
        small().then(Behavior.completion("late").responseDelay(IDLE_TIMEOUT_MS + 1500));
        HttpResponse<String> late = gateway.post("/v1/chat/completions", chat("fit-model", false));
        assertEquals(200, late.statusCode(), late.body());
        assertEquals("late", json(late.body()).at("/choices/0/message/content").asText());

        // A stream whose events come every 1.5 s for longer than the idle clock.
        small().then(Behavior.stream(4).tokenDelay(1500));
        HttpResponse<String> stream = gateway.post("/v1/chat/completions", chat("fit-model", true));
        assertEquals(200, stream.statusCode());
        List<String> payloads = GatewayClient.dataPayloads(stream.body());
        assertEquals("[DONE]", payloads.get(payloads.size() - 1), stream.body());
        assertTrue(stream.body().contains("tok3"), stream.body());
    }

    @Test
    void aClientAddressMayHoldOnlySoManyConnections() throws Exception {
        List<RawHttp> held = new ArrayList<>();
        RawHttp refused = null;
        String answer = null;
        try {
            for (int i = 0; i <= HostileProfile.MAX_PER_ADDRESS + 1 && refused == null; i++) {
                RawHttp client = RawHttp.connect(gatewayPort());
                String response = client.send(HEALTH).readResponse();
                if (RawHttp.status(response) == 429) {
                    refused = client;
                    answer = response;
                } else {
                    assertEquals(200, RawHttp.status(response), response);
                    held.add(client);
                }
            }
            assertNotNull(refused, "connection " + (held.size() + 1) + " from one address was accepted");
            assertTrue(held.size() <= HostileProfile.MAX_PER_ADDRESS, "held " + held.size());
            JsonNode error = json(RawHttp.body(answer)).path("error");
            assertEquals("too_many_connections", error.path("code").asText(), answer);
            assertTrue(answer.toLowerCase().contains("retry-after"), answer);
            assertTrue(refused.closedWithin(2000), "the refused connection is closed");
        } finally {
            for (RawHttp client : held) {
                client.close();
            }
            if (refused != null) {
                refused.close();
            }
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        int status;
        do {
            try (RawHttp client = RawHttp.connect(gatewayPort())) {
                status = RawHttp.status(client.send(HEALTH).readResponse());
            }
        } while (status != 200 && System.nanoTime() < deadline);
        assertEquals(200, status, "closed connections no longer count");
    }

    @Test
    void connectionCloseIsHonouredAndNothingPipelinedBehindItRuns() throws Exception {
        String body = chat("main-model", false);
        String first = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Connection: close\r\nx-request-id: pipelined-first\r\nContent-Length: " + body.length() + "\r\n\r\n"
                + body;
        String second = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "x-request-id: pipelined-second\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        try (RawHttp client = RawHttp.connect(gatewayPort())) {
            client.send(first + second);
            assertTrue(client.closedWithin(15_000), "Connection: close must close the connection");
            String all = client.seen();
            assertEquals(1, all.split("HTTP/1.1 ", -1).length - 1, "exactly one answer: " + all);
            assertEquals(200, RawHttp.status(all), all);
        }
        Thread.sleep(300);
        assertEquals(1, alpha().completionRequests().size(), "the pipelined request never ran");
        assertEquals("pipelined-first", alpha().lastCompletion().headers.get("x-request-id"));
    }
}

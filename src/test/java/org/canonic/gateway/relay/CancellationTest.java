package org.canonic.gateway.relay;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LogCapture;
import org.canonic.gateway.testing.RawHttp;
import org.canonic.gateway.testing.Received;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * vLLM frees a request's GPU slot only when its connection closes: when the client leaves, the gateway must close
 * the upstream request at once. Each case measures how long the fake backend waited to see the close.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class CancellationTest extends GatewayTest {

    private static final long LIMIT_MS = 1000;

    private LogCapture logs;

    @BeforeEach
    void captureLogs() {
        logs = LogCapture.start();
    }

    /** An upstream request closed because its client left is the expected outcome, not an error. */
    @AfterEach
    void noErrorWithoutARequestOrBackend() {
        logs.close();
        assertEquals(List.of(), logs.errorsWithoutContext(), "every error names a request or a backend");
    }

    @Test
    void aClientLeavingBeforeTheFirstTokenClosesTheUpstreamRequest() throws Exception {
        alpha().then(Behavior.stream(5).firstTokenDelay(FakeBackends.ALPHA_FIRST_TOKEN_MS - 200));

        Received upstream;
        long leftAt;
        try (RawHttp client = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", true))) {
            upstream = alpha().awaitCompletion(Duration.ofSeconds(5));
            leftAt = System.nanoTime();
        }

        assertClosedWithinLimit(upstream, leftAt);
        assertNoFurtherAttempts();
    }

    @Test
    void aClientLeavingMidStreamClosesTheUpstreamRequest() throws Exception {
        alpha().then(Behavior.stream(200).tokenDelay(50));

        Received upstream;
        long leftAt;
        try (RawHttp client = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", true))) {
            client.readUntil("tok1");
            upstream = alpha().lastCompletion();
            leftAt = System.nanoTime();
        }

        assertClosedWithinLimit(upstream, leftAt);
        assertNoFurtherAttempts();
    }

    @Test
    void aClientLeavingANonStreamRequestClosesTheUpstreamRequest() throws Exception {
        alpha().then(Behavior.hang());

        Received upstream;
        long leftAt;
        try (RawHttp client = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", false))) {
            upstream = alpha().awaitCompletion(Duration.ofSeconds(5));
            leftAt = System.nanoTime();
        }

        assertClosedWithinLimit(upstream, leftAt);
        assertNoFurtherAttempts();
    }

    private static void assertClosedWithinLimit(Received upstream, long leftAtNanos) throws Exception {
        long closedAt = upstream.closedEarly.get(LIMIT_MS * 3, TimeUnit.MILLISECONDS);
        long afterMs = Math.max(0, (closedAt - leftAtNanos) / 1_000_000);
        assertTrue(afterMs <= LIMIT_MS, "the backend saw the close " + afterMs + " ms after the client left");
    }

    /** A client that left must not cause retries or fallbacks: nobody would read their answer. */
    private static void assertNoFurtherAttempts() throws InterruptedException {
        Thread.sleep(300);
        assertEquals(1, alpha().completionRequests().size());
        assertEquals(0, beta().completionRequests().size());
    }
}

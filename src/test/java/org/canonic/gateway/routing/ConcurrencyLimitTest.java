package org.canonic.gateway.routing;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.health.HealthProfile;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every backend takes one request at a time in this profile; a stream holds its slot until its last byte. */
@QuarkusTest
@TestProfile(HealthProfile.class)
class ConcurrencyLimitTest extends GatewayTest {

    @org.junit.jupiter.api.BeforeEach
    void closedBreakers() {
        resetBreakers();
    }

    @Test
    void aFullBackendOverflowsToTheNextCandidateThenTheClientGets429() throws Exception {
        for (FakeVllm fake : List.of(alpha(), beta(), omega())) {
            fake.always(Behavior.stream(60).tokenDelay(50));
        }
        List<RawHttp> streams = new ArrayList<>();
        try {
            streams.add(openStream(alpha()));
            streams.add(openStream(beta()));
            streams.add(openStream(omega()));

            HttpResponse<String> overflow = gateway.post("/v1/chat/completions", chat("main-model", true));
            assertEquals(429, overflow.statusCode(), overflow.body());
            assertTrue(overflow.headers().firstValue("retry-after").isPresent());
            assertEquals("backends_at_capacity", json(overflow.body()).at("/error/code").asText());
            assertEquals(1, alpha().completionRequests().size());

            streams.remove(0).close();
            alpha().lastCompletion().closedEarly.get(2, java.util.concurrent.TimeUnit.SECONDS);
            Thread.sleep(50);
            alpha().always(Behavior.stream(2));
            HttpResponse<String> freed = gateway.post("/v1/chat/completions", chat("main-model", false));
            assertEquals("alpha", freed.headers().firstValue("x-gateway-provider").orElse(null), freed.body());
        } finally {
            for (RawHttp stream : streams) {
                stream.close();
            }
        }
    }

    /** Opens a stream that should land on {@code expected}, and waits until it is flowing there. */
    private RawHttp openStream(FakeVllm expected) throws Exception {
        int before = expected.completionRequests().size();
        RawHttp stream = RawHttp.post(gatewayPort(), "/v1/chat/completions", chat("main-model", true));
        stream.readUntil("tok0");
        assertEquals(before + 1, expected.completionRequests().size(), "the stream should have landed on " + expected);
        return stream;
    }

}

package org.canonic.gateway.ops;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.HostileProfile;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The body read clock holds on the admin API as on the proxied endpoints: a trickled body is answered 408 and cut. */
@QuarkusTest
@TestProfile(HostileProfile.class)
class AdminTrickleTest extends GatewayTest {

    @Test
    void aTrickledAdminBodyIsAnswered408AndClosedWithinTheClock() throws Exception {
        try (RawHttp raw = RawHttp.connect(gatewayPort())) {
            raw.send("POST /admin/lock HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + FakeBackends.ADMIN_TOKEN + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
            long start = System.nanoTime();
            Thread trickle = new Thread(() -> {
                try {
                    for (int i = 0; i < 40; i++) {
                        Thread.sleep(200);
                        raw.send(" ");
                    }
                } catch (Exception stopped) {
                    // the gateway closed the connection: what this test waits for
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            String answer = raw.readResponse();
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            assertEquals(408, RawHttp.status(answer), answer);
            assertTrue(RawHttp.body(answer).contains("\"code\":\"request_timeout\""), answer);
            assertTrue(elapsedMs < HostileProfile.BODY_TIMEOUT_MS + 1_500, "answered after " + elapsedMs + " ms");
            assertTrue(raw.closedWithin(4_000), "the connection is closed although the client goes on sending");
        }
    }
}

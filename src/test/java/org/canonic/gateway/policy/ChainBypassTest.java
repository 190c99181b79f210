package org.canonic.gateway.policy;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing reaches a backend without passing the chain: not through path tricks, method overrides or content-type
 * games. Each probe below carries a body the chain must refuse (no messages), so any probe that reached a backend
 * would show up as a completion request there.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class ChainBypassTest extends GatewayTest {

    private static final String INVALID = "{\"model\":\"main-model\",\"stream\":true}";
    private static final String JSON = "Content-Type: application/json\r\n";

    @Test
    void pathTricksNeverReachABackendUnvalidated() throws Exception {
        List<String> targets = List.of("/v1//chat/completions", "/v1/chat/completions/", "/v1/./chat/completions",
                "/v1/chat/../chat/completions", "//v1/chat/completions", "/V1/chat/completions",
                "/v1/CHAT/completions", "/v1/chat/completions;debug=1", "/v1/chat%2Fcompletions",
                "/v1/chat/completions%00", "/v1/chat/completions?bypass=true", "/v1/chat/completions#x",
                "/v1/%63hat/completions", "/./v1/chat/completions", "/v1/chat/completions/..;/completions",
                "/q/../v1/chat/completions", "/v1/completions/../chat/completions", "/admin/../v1/chat/completions");
        List<String> reached = new ArrayList<>();
        for (String target : targets) {
            int before = completions();
            String answer = RawHttp.exchange(gatewayPort(), "POST", target, JSON, INVALID);
            int status = RawHttp.status(answer);
            assertTrue(status >= 400 && status < 500, target + " answered " + status);
            if (completions() != before) {
                reached.add(target);
            }
        }
        assertEquals(List.of(), reached, "these paths reached a backend with an invalid body");
    }

    @Test
    void methodOverrideHeadersChangeNothing() throws Exception {
        for (String header : List.of("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override")) {
            assertEquals(405, RawHttp.status(RawHttp.exchange(gatewayPort(), "GET", "/v1/chat/completions",
                    JSON + header + ": POST\r\n", INVALID)), header);
            assertEquals(400, RawHttp.status(RawHttp.exchange(gatewayPort(), "POST", "/v1/chat/completions",
                    JSON + header + ": GET\r\n", INVALID)), header + " on a POST still validates the POST");
        }
        for (String method : List.of("PUT", "PATCH", "DELETE", "OPTIONS")) {
            int status = RawHttp.status(RawHttp.exchange(gatewayPort(), method, "/v1/chat/completions", JSON, INVALID));
            assertTrue(status == 405 || status == 404, method + " answered " + status);
        }
        assertEquals(0, completions());
    }

    @Test
    void contentTypeGamesAreRefusedBeforeTheBodyIsRead() throws Exception {
        String valid = "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        for (String type : List.of("text/plain", "application/x-json", "application/json-patch+json", "text/json",
                "application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "*/*")) {
            String answer = RawHttp.exchange(gatewayPort(), "POST", "/v1/chat/completions",
                    "Content-Type: " + type + "\r\n", valid);
            assertEquals(415, RawHttp.status(answer), type);
        }
        assertEquals(0, completions());
        // The control: the same body with the right type goes through.
        assertEquals(200, RawHttp.status(RawHttp.exchange(gatewayPort(), "POST", "/v1/chat/completions",
                "Content-Type: application/json; charset=utf-8\r\n", valid)));
        assertEquals(1, completions());
    }

    private static int completions() {
        return FakeBackends.all().stream().mapToInt(fake -> fake.completionRequests().size()).sum();
    }

}

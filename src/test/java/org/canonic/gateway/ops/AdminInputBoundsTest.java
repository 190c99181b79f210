package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LogCapture;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an admin-token holder may make the gateway read and where it may make it send it: key files only from the
 * secrets directory (regular, small, a key's content), variables only with the configured prefix and never the
 * gateway's own, bounded numbers, no field given twice, no private address unless configured. Every refusal is a 400
 * that names the rule and never repeats what a file holds.
 */
@QuarkusTest
class AdminInputBoundsTest extends GatewayTest {

    private HttpResponse<String> register(String fields) {
        String name = "bounds-" + UUID.randomUUID().toString().substring(0, 8);
        return gateway.call("POST", "/admin/backends", "{\"name\":\"" + name + "\",\"model\":\"m\","
                + "\"routes\":[\"solo\"],\"probe\":\"none\"," + fields + "}", "authorization",
                "Bearer " + FakeBackends.ADMIN_TOKEN);
    }

    private String localUrl() {
        return "\"base_url\":\"" + FakeBackends.alpha().baseUrl() + "\"";
    }

    private static void assertRefused(HttpResponse<String> response, int status, String... fragments) {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode error = json(response.body()).get("error");
        for (String fragment : fragments) {
            assertTrue(error.get("message").asText().contains(fragment), fragment + " in " + response.body());
        }
    }

    @Test
    void keyFilesComeOnlyFromTheSecretsDirectoryAndAreNeverEchoed() throws Exception {
        Path outside = Files.createTempFile("admin-token-like", ".txt");
        Files.writeString(outside, "sk-outside-the-secrets-dir-0000");
        HttpResponse<String> refused = register(localUrl() + ",\"api_key_file\":\"" + outside + "\"");
        assertRefused(refused, 400, "outside gateway.secrets.dir");
        assertFalse(refused.body().contains("sk-outside"), refused.body());

        Path tooLarge = FakeBackends.secretsDir().resolve("too-large-" + UUID.randomUUID());
        Files.writeString(tooLarge, "k".repeat(20_000));
        assertRefused(register(localUrl() + ",\"api_key_file\":\"" + tooLarge + "\""), 400, "larger than 16384 bytes");

        // A copy of /etc/shadow in the right place is still not a key: refused, and its content never shown or logged.
        Path shadow = FakeBackends.secretsDir().resolve("shadow-" + UUID.randomUUID());
        Files.writeString(shadow, "root:$6$shadow-hash-4711:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n");
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> notAKey = register(localUrl() + ",\"api_key_file\":\"" + shadow + "\"");
            assertRefused(notAKey, 400, "whose content is not a key");
            assertFalse(notAKey.body().contains("shadow-hash"), notAKey.body());
            assertFalse(logs.text().contains("shadow-hash"), "the content is never logged");
        }
    }

    @Test
    void aFifoOrADeviceIsRefusedWithoutFreezingTheGateway() throws Exception {
        Path fifo = FakeBackends.secretsDir().resolve("fifo-" + UUID.randomUUID());
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        CompletableFuture<HttpResponse<String>> registering = CompletableFuture.supplyAsync(
                () -> register(localUrl() + ",\"api_key_file\":\"" + fifo + "\""));
        assertRefused(registering.get(5, TimeUnit.SECONDS), 400, "not a regular file");
        assertEquals(200, gateway.get("/health").statusCode());
        assertEquals(200, gateway.call("GET", "/admin/lock", null, "authorization",
                "Bearer " + FakeBackends.ADMIN_TOKEN).statusCode());

        Path zero = FakeBackends.secretsDir().resolve("zero-" + UUID.randomUUID());
        Files.createSymbolicLink(zero, Path.of("/dev/zero"));
        assertRefused(register(localUrl() + ",\"api_key_file\":\"" + zero + "\""), 400, "outside gateway.secrets.dir");
        assertRefused(register(localUrl() + ",\"api_key_file\":\"/dev/zero\""), 400, "outside gateway.secrets.dir");
    }

    @Test
    void variablesNeedThePrefixAndNeverNameTheGatewaysOwnSettings() {
        assertRefused(register(localUrl() + ",\"api_key_env\":\"PATH\""), 400, "BACKEND_KEY_",
                "gateway.secrets.env-prefix");
        for (String own : new String[]{"QUARKUS_REDIS_HOSTS", "VASTAI_ACCOUNT_KEY", "BACKEND_KEY_ADMIN_TOKEN",
                "GATEWAY_ADMIN_TOKEN"}) {
            HttpResponse<String> refused = register(localUrl() + ",\"api_key_env\":\"" + own + "\"");
            assertEquals(400, refused.statusCode(), own + ": " + refused.body());
        }
    }

    @Test
    void numbersAreBoundedAndAFieldGivenTwiceIsRefused() {
        assertRefused(register(localUrl() + ",\"retry_delay_ms\":9000000000000000000"), 400, "retry_delay_ms");
        assertRefused(register(localUrl() + ",\"clocks\":{\"total_ms\":4611686018427387904}"), 400, "total_ms");
        assertRefused(register(localUrl() + ",\"max_concurrency\":2000000000"), 400, "max_concurrency");
        assertRefused(register("\"base_url\":\"http://127.0.0.1:99999/v1\""), 400, "port");
        assertRefused(register(localUrl() + ",\"api_key_file\":\"/a\",\"api_key_file\":\"/b\""), 400,
                "gives the field 'api_key_file' twice");
    }

    @Test
    void privateLoopbackAndLinkLocalAddressesNeedTheSetting() {
        // The test configuration allows 127.0.0.0/8 only.
        for (String url : new String[]{"http://10.1.2.3:8000/v1", "http://169.254.169.254/v1", "http://[::1]:8000/v1",
                "http://192.168.7.9:8000/v1", "http://[fd00::5]:8000/v1", "http://100.64.1.1/v1"}) {
            HttpResponse<String> refused = register("\"base_url\":\"" + url + "\"");
            assertRefused(refused, 400, "gateway.admin.allowed-networks");
            assertEquals("address_not_allowed", json(refused.body()).at("/error/code").asText(), url);
        }
    }
}

package org.canonic.gateway.keys;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.policy.AuthProfile;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LogCapture;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.UUID;
import java.util.function.IntPredicate;

import static org.canonic.gateway.testing.GatewayClient.chat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client keys added and revoked while the gateway runs, over real HTTP: the key file re-read when it changes and on
 * SIGHUP, and keys made, listed and deleted through {@code /admin/keys} (the key shown once, kept nowhere).
 */
@QuarkusTest
@TestProfile(AuthProfile.class)
class ClientKeyRotationTest extends GatewayTest {

    private static final String BASE_FILE = "# the auth profile's key file\n" + FakeBackends.FILE_KEY_ID + ":"
            + FakeBackends.FILE_KEY + "\n";

    private int chatWith(String key, String model) {
        return gateway.post("/v1/chat/completions", chat(model, false), "authorization", "Bearer " + key).statusCode();
    }

    /** Waits up to {@code ms} for the status of a chat with {@code key} to satisfy {@code wanted}; the last status. */
    private int awaitStatus(String key, IntPredicate wanted, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + ms * 1_000_000;
        int status;
        do {
            status = chatWith(key, "main-model");
            if (wanted.test(status)) {
                return status;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return status;
    }

    private HttpResponse<String> admin(String method, String path, String body) {
        return gateway.call(method, path, body, "authorization", "Bearer " + FakeBackends.ADMIN_TOKEN);
    }

    @Test
    void aKeyAppendedToTheFileIsAcceptedWithinSecondsAndARemovedOneRefused() throws Exception {
        Path file = FakeBackends.keysFile();
        String added = "gw-appended-" + UUID.randomUUID();
        try {
            assertEquals(200, chatWith(FakeBackends.FILE_KEY, "main-model"), "the file's key works from the start");
            assertEquals(401, chatWith(added, "main-model"));

            Files.writeString(file, BASE_FILE + "appended:" + added + "\n");
            assertEquals(200, awaitStatus(added, s -> s == 200, 5000), "an appended key is accepted without restart");

            Files.writeString(file, "appended:" + added + "\n");
            assertEquals(401, awaitStatus(FakeBackends.FILE_KEY, s -> s == 401, 5000),
                    "a key whose line was removed is refused without restart");
            assertEquals(200, chatWith(added, "main-model"), "the remaining line still applies");
        } finally {
            Files.writeString(file, BASE_FILE);
            awaitStatus(FakeBackends.FILE_KEY, s -> s == 200, 5000);
        }
    }

    @Test
    void sighupReReadsTheFileEvenWhenNothingAboutItLooksChanged() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(sighupIgnoredHere(),
                "this JVM inherited SIGHUP as ignored (started under nohup): no process of it can receive the signal");
        Path file = FakeBackends.keysFile();
        // The same length as the file's key: the edit keeps the size, and the modification time is put back, so only
        // SIGHUP can tell the gateway to read it again.
        String swapped = "gw-test-key-hup-" + "x".repeat(FakeBackends.FILE_KEY.length() - 16);
        assertEquals(FakeBackends.FILE_KEY.length(), swapped.length());
        FileTime modified = Files.getLastModifiedTime(file);
        try {
            Files.writeString(file, BASE_FILE.replace(FakeBackends.FILE_KEY, swapped));
            Files.setLastModifiedTime(file, modified);
            Thread.sleep(1000);
            assertEquals(401, chatWith(swapped, "main-model"), "polling alone does not see this edit");

            Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).start();
            assertEquals(0, hup.waitFor());
            assertEquals(200, awaitStatus(swapped, s -> s == 200, 5000), "SIGHUP re-read the file");
            assertEquals(401, chatWith(FakeBackends.FILE_KEY, "main-model"));
        } finally {
            Files.writeString(file, BASE_FILE);
            awaitStatus(FakeBackends.FILE_KEY, s -> s == 200, 5000);
        }
    }

    @Test
    void aKeyMadeThroughTheAdminApiWorksIsShownOnceAndIsRefusedOnceDeleted() throws Exception {
        String id = "made-" + UUID.randomUUID().toString().substring(0, 8);
        try (LogCapture logs = LogCapture.start()) {
            HttpResponse<String> made = admin("POST", "/admin/keys", "{\"id\":\"" + id + "\",\"routes\":[\"solo\"]}");
            assertEquals(201, made.statusCode(), made.body());
            JsonNode answer = json(made.body());
            String key = answer.get("key").asText();
            assertTrue(key.length() >= 32, key.length() + " characters");
            assertEquals(id, answer.get("id").asText());
            assertEquals("admin", answer.get("source").asText());
            assertEquals("[\"solo\"]", answer.get("routes").toString());
            assertNotNull(answer.get("created").textValue());

            assertEquals(200, chatWith(key, "solo-model"), "a made key works at once");
            assertEquals(403, chatWith(key, "main-model"), "within its routes");

            HttpResponse<String> list = admin("GET", "/admin/keys", null);
            assertEquals(200, list.statusCode(), list.body());
            JsonNode listed = null;
            for (JsonNode entry : json(list.body()).get("data")) {
                if (entry.get("id").asText().equals(id)) {
                    listed = entry;
                }
            }
            assertNotNull(listed, list.body());
            assertFalse(listed.get("last_used").isNull(), "its last use is shown: " + listed);
            assertTrue(list.body().contains("\"" + FakeBackends.CI_KEY_ID + "\"") && list.body().contains("\"env\"")
                    && list.body().contains("\"file\""), "configured keys are listed too, by source: " + list.body());
            String digest = java.util.HexFormat.of().formatHex(org.canonic.gateway.policy.ClientKeys.sha256(key));
            for (String secret : new String[]{key, digest, FakeBackends.CI_KEY, FakeBackends.FILE_KEY}) {
                assertFalse(list.body().contains(secret), "the list shows no key and no digest");
            }
            Path state = FakeBackends.ledger().getParent().resolve("state");
            String stored = Files.readString(state.resolve("client-keys.json"));
            assertTrue(stored.contains(digest) && !stored.contains(key), "only the digest is stored");
            assertFalse(Files.readString(state.resolve("audit.jsonl")).contains(key), "the audit log has no key");
            assertTrue(Files.readString(state.resolve("audit.jsonl")).contains(id), "the creation is audited");

            assertEquals(409, admin("POST", "/admin/keys", "{\"id\":\"" + id + "\"}").statusCode(), "ids are unique");
            assertEquals(409, admin("POST", "/admin/keys", "{\"id\":\"ci\"}").statusCode(), "also against env keys");
            HttpResponse<String> fileKey = admin("DELETE", "/admin/keys/" + FakeBackends.FILE_KEY_ID, null);
            assertEquals(409, fileKey.statusCode(), fileKey.body());
            assertEquals("key_not_deletable", json(fileKey.body()).at("/error/code").asText());

            HttpResponse<String> deleted = admin("DELETE", "/admin/keys/" + id, null);
            assertEquals(200, deleted.statusCode(), deleted.body());
            assertFalse(deleted.body().contains(key));
            assertEquals(401, chatWith(key, "solo-model"), "a deleted key is refused at once");
            assertEquals(404, admin("DELETE", "/admin/keys/" + id, null).statusCode());
            assertFalse(Files.readString(state.resolve("client-keys.json")).contains(digest), "and forgotten");
            assertFalse(logs.text().contains(key), "the key is never logged");
        }
    }

    @Test
    void aStreamInFlightWhenItsKeyIsDeletedFinishesAndTheNextRequestIsRefused() throws Exception {
        HttpResponse<String> made = admin("POST", "/admin/keys", "{\"routes\":[\"solo\"]}");
        assertEquals(201, made.statusCode(), made.body());
        String key = json(made.body()).get("key").asText();
        String id = json(made.body()).get("id").asText();
        assertTrue(id.startsWith("key-"), id);
        FakeBackends.alpha().then(org.canonic.gateway.testing.Behavior.stream(12).tokenDelay(100));
        java.util.concurrent.CompletableFuture<HttpResponse<String>> stream = java.net.http.HttpClient.newHttpClient()
                .sendAsync(java.net.http.HttpRequest.newBuilder(gatewayUri().resolve("/v1/chat/completions"))
                        .header("content-type", "application/json").header("authorization", "Bearer " + key)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(chat("solo-model", true))).build(),
                        HttpResponse.BodyHandlers.ofString());
        // Deleted only once the stream is admitted and upstream (its first tokens on the way).
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (FakeBackends.alpha().completionRequests().isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the stream never reached the backend");
            Thread.sleep(10);
        }
        Thread.sleep(200);
        assertEquals(200, admin("DELETE", "/admin/keys/" + id, null).statusCode());
        assertEquals(401, chatWith(key, "solo-model"), "refused from the next request on");
        HttpResponse<String> finished = stream.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, finished.statusCode());
        assertTrue(finished.body().contains("tok11") && finished.body().contains("[DONE]")
                && !finished.body().contains("\"error\""), "the admitted stream ran to its end: " + finished.body());
    }

    @Test
    void badKeyRequestsAreRefusedInOpenAiShape() {
        for (String body : new String[]{"[1]", "{\"id\":\"has space\"}", "{\"id\":7}", "{\"routes\":\"solo\"}",
                "{\"secret\":\"x\"}", "{\"routes\":[\"a b\"]}", "not json"}) {
            HttpResponse<String> refused = admin("POST", "/admin/keys", body);
            assertEquals(400, refused.statusCode(), body + " -> " + refused.body());
            assertTrue(json(refused.body()).at("/error/message").isTextual(), refused.body());
        }
        assertEquals(401, gateway.call("POST", "/admin/keys", "{}").statusCode(), "the admin token is required");
        assertEquals(401, gateway.get("/admin/keys").statusCode());
    }

    /** Whether this process ignores SIGHUP (bit 0 of {@code SigIgn} in {@code /proc/self/status}, Linux). */
    private static boolean sighupIgnoredHere() throws java.io.IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return false;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring("SigIgn:".length()).strip(), 16) & 1L) != 0;
            }
        }
        return false;
    }
}

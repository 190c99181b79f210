package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.LogCapture;
import org.canonic.gateway.testing.RawHttp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed requests, one per way a request can be wrong: every one gets a 4xx in OpenAI's error shape, none logs a
 * stack trace, and no backend sees a completion (or even a token count).
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class BadInputCorpusTest extends GatewayTest {

    private static final String CHAT = "/v1/chat/completions";
    private static final String USER = "[{\"role\":\"user\",\"content\":\"hi\"}]";

    /** One malformed request and the status it must get. */
    record Case(String name, String method, String path, String contentType, String body, int status) {
    }

    private static Case chat(String name, String body, int status) {
        return new Case(name, "POST", CHAT, "application/json", body, status);
    }

    /** A chat request with one extra member {@code "field": value}. */
    private static Case field(String name, String member, int status) {
        return chat(name, "{\"model\":\"main-model\",\"messages\":" + USER + "," + member + "}", status);
    }

    private static Case message(String name, String messages) {
        return chat(name, "{\"model\":\"main-model\",\"messages\":" + messages + "}", 400);
    }

    static List<Case> corpus() {
        List<Case> cases = new ArrayList<>(List.of(
                chat("broken JSON", "{\"model\":", 400),
                chat("not JSON at all", "hello there", 400),
                chat("empty body", "", 400),
                chat("a JSON array", "[]", 400),
                chat("a JSON string", "\"main-model\"", 400),
                chat("a JSON number", "42", 400),
                chat("JSON null", "null", 400),
                chat("trailing garbage", "{\"model\":\"main-model\",\"messages\":" + USER + "} trailing", 400),
                chat("duplicate keys", "{\"model\":\"main-model\",\"model\":\"solo-model\",\"messages\":" + USER + "}", 400),
                chat("NaN literal", "{\"model\":\"main-model\",\"messages\":" + USER + ",\"temperature\":NaN}", 400),
                chat("single quotes", "{'model':'main-model'}", 400),
                chat("deep nesting", "{\"model\":\"main-model\",\"messages\":" + USER + ",\"x\":" + "[".repeat(200)
                        + "]".repeat(200) + "}", 400),
                new Case("no content type", "POST", CHAT, null, "{\"model\":\"main-model\",\"messages\":" + USER + "}", 415),
                new Case("text/plain", "POST", CHAT, "text/plain", "{\"model\":\"main-model\",\"messages\":" + USER + "}", 415),
                new Case("form encoded", "POST", CHAT, "application/x-www-form-urlencoded", "model=main-model", 415),
                new Case("multipart", "POST", CHAT, "multipart/form-data; boundary=x", "--x--", 415),
                new Case("json lookalike type", "POST", CHAT, "application/jsonx", "{\"model\":\"main-model\"}", 415),
                new Case("GET", "GET", CHAT, "application/json", "", 405),
                new Case("PUT", "PUT", CHAT, "application/json", "{\"model\":\"main-model\",\"messages\":" + USER + "}", 405),
                chat("model missing", "{\"messages\":" + USER + "}", 400),
                chat("model null", "{\"model\":null,\"messages\":" + USER + "}", 400),
                chat("model a number", "{\"model\":7,\"messages\":" + USER + "}", 400),
                chat("model empty", "{\"model\":\"\",\"messages\":" + USER + "}", 400),
                chat("model an object", "{\"model\":{\"id\":\"main-model\"},\"messages\":" + USER + "}", 400),
                chat("model unknown", "{\"model\":\"gpt-4o\",\"messages\":" + USER + "}", 404),
                chat("model with control chars", "{\"model\":\"main-model\\u0000\",\"messages\":" + USER + "}", 404),
                chat("messages missing", "{\"model\":\"main-model\"}", 400),
                message("messages empty", "[]"),
                message("messages a string", "\"hi\""),
                message("message a string", "[\"hi\"]"),
                message("role missing", "[{\"content\":\"hi\"}]"),
                message("role unknown", "[{\"role\":\"admin\",\"content\":\"hi\"}]"),
                message("role a number", "[{\"role\":1,\"content\":\"hi\"}]"),
                message("content a number", "[{\"role\":\"user\",\"content\":42}]"),
                message("content an object", "[{\"role\":\"user\",\"content\":{\"text\":\"hi\"}}]"),
                message("user content null", "[{\"role\":\"user\",\"content\":null}]"),
                message("user content missing", "[{\"role\":\"user\"}]"),
                message("part not an object", "[{\"role\":\"user\",\"content\":[\"hi\"]}]"),
                message("part without type", "[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]"),
                message("text part without text", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}]"),
                field("temperature a string", "\"temperature\":\"hot\"", 400),
                field("temperature negative", "\"temperature\":-1", 400),
                field("temperature too high", "\"temperature\":3", 400),
                field("temperature huge", "\"temperature\":1e309", 400),
                field("top_p over one", "\"top_p\":1.5", 400),
                field("n zero", "\"n\":0", 400),
                field("n huge", "\"n\":1000", 400),
                field("n fractional", "\"n\":2.5", 400),
                field("max_tokens negative", "\"max_tokens\":-5", 400),
                field("max_tokens zero", "\"max_tokens\":0", 400),
                field("max_tokens huge", "\"max_tokens\":100000000000000000000", 400),
                field("max_tokens hugely negative", "\"max_tokens\":-1e30", 400),
                field("max_tokens a string", "\"max_tokens\":\"100\"", 400),
                field("max_tokens fractional", "\"max_tokens\":12.5", 400),
                field("max_completion_tokens negative", "\"max_completion_tokens\":-1", 400),
                field("stream a string", "\"stream\":\"yes\"", 400),
                field("stream_options without stream", "\"stream_options\":{\"include_usage\":true}", 400),
                field("stream_options not an object", "\"stream\":true,\"stream_options\":true", 400),
                field("include_usage a string", "\"stream\":true,\"stream_options\":{\"include_usage\":\"true\"}", 400),
                field("tools empty", "\"tools\":[]", 400),
                field("tools an object", "\"tools\":{\"type\":\"function\"}", 400),
                field("tool without name", "\"tools\":[{\"type\":\"function\",\"function\":{}}]", 400),
                field("tool of another type", "\"tools\":[{\"type\":\"retrieval\"}]", 400),
                field("tool_choice a number", "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":1", 400),
                field("stop a number", "\"stop\":5", 400),
                field("stop holding numbers", "\"stop\":[1,2]", 400),
                field("too many stop sequences", "\"stop\":" + "[\"a\",".repeat(20) + "\"b\"]", 400),
                field("logprobs a string", "\"logprobs\":\"yes\"", 400),
                field("top_logprobs too high", "\"top_logprobs\":50", 400),
                field("presence_penalty too high", "\"presence_penalty\":5", 400),
                field("frequency_penalty too low", "\"frequency_penalty\":-3", 400),
                field("seed a string", "\"seed\":\"abc\"", 400),
                field("top_k fractional", "\"top_k\":1.5", 400),
                field("parallel_tool_calls a string", "\"parallel_tool_calls\":\"no\"", 400),
                new Case("completions without prompt", "POST", "/v1/completions", "application/json",
                        "{\"model\":\"main-model\"}", 400),
                new Case("completions prompt a number", "POST", "/v1/completions", "application/json",
                        "{\"model\":\"main-model\",\"prompt\":5}", 400),
                new Case("completions prompt mixed", "POST", "/v1/completions", "application/json",
                        "{\"model\":\"main-model\",\"prompt\":[\"a\",{\"b\":1}]}", 400),
                new Case("completions prompt empty array", "POST", "/v1/completions", "application/json",
                        "{\"model\":\"main-model\",\"prompt\":[]}", 400)));
        return cases;
    }

    @Test
    void everyMalformedRequestGetsAn4xxInOpenAiShapeNoStackTraceAndNothingUpstream() throws Exception {
        List<Case> corpus = corpus();
        assertTrue(corpus.size() >= 50, "the corpus must hold at least 50 cases: " + corpus.size());
        List<String> failures = new ArrayList<>();
        try (LogCapture logs = LogCapture.start()) {
            for (Case c : corpus) {
                String headers = c.contentType() == null ? "" : "Content-Type: " + c.contentType() + "\r\n";
                String answer = RawHttp.exchange(gatewayPort(), c.method(), c.path(), headers, c.body());
                int status = RawHttp.status(answer);
                String body = answer.substring(answer.indexOf("\r\n\r\n") + 4);
                JsonNode error = parse(body).path("error");
                boolean shaped = error.has("message") && error.has("type") && error.has("param") && error.has("code");
                if (status != c.status() || !shaped) {
                    failures.add(c.name() + ": status " + status + " (expected " + c.status() + "), body " + body);
                }
            }
            assertTrue(failures.isEmpty(), String.join("\n", failures));
            assertEquals(List.of(), logs.withStackTraces().stream().map(r -> r.getMessage()).toList(),
                    "a malformed request is not an error of the gateway");
        }
        for (FakeVllm fake : FakeBackends.all()) {
            assertEquals(0, fake.completionRequests().size(), "nothing may be forwarded");
            assertEquals(0, fake.tokenizeRequests().size(), "nothing may even be measured upstream");
        }
    }

    @Test
    void anOversizeBodyIsRefusedWith413BeforeItIsRead() throws Exception {
        String huge = "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(3_000_000)
                + "\"}]}";
        String answer = RawHttp.exchange(gatewayPort(), "POST", CHAT, "Content-Type: application/json\r\n", huge);
        assertEquals(413, RawHttp.status(answer));
        assertTrue(answer.contains("request_too_large"), answer.substring(0, Math.min(400, answer.length())));
        assertEquals(0, FakeBackends.alpha().completionRequests().size());
    }

    @Test
    void invalidUtf8IsRefused() throws Exception {
        byte[] prefix = "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"".getBytes();
        byte[] suffix = "\"}]}".getBytes();
        byte[] body = new byte[prefix.length + 2 + suffix.length];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xC3;
        body[prefix.length + 1] = (byte) 0x28;
        System.arraycopy(suffix, 0, body, prefix.length + 2, suffix.length);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gatewayPort())) {
            socket.getOutputStream().write(("POST " + CHAT + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes());
            socket.getOutputStream().write(body);
            String answer = new String(socket.getInputStream().readAllBytes());
            assertEquals(400, RawHttp.status(answer), answer);
            assertTrue(answer.contains("invalid_json"), answer);
        }
        assertEquals(0, FakeBackends.alpha().completionRequests().size());
    }

    @Test
    void transferEncodingsOtherThanChunkedAreRefusedWith501() throws Exception {
        String valid = "{\"model\":\"main-model\",\"messages\":" + USER + "}";
        for (String encoding : List.of("gzip", "deflate", "identity", "gzip, chunked", "chunked, chunked")) {
            // Framed as the sender says: chunked when chunked is named last, by Content-Length otherwise.
            boolean chunked = encoding.endsWith("chunked");
            String request = "POST " + CHAT + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nTransfer-Encoding: " + encoding + "\r\n"
                    + (chunked ? "\r\n" + Integer.toHexString(valid.length()) + "\r\n" + valid + "\r\n0\r\n\r\n"
                    : "Content-Length: " + valid.length() + "\r\n\r\n" + valid);
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gatewayPort())) {
                socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                String answer = new String(socket.getInputStream().readAllBytes());
                assertEquals(501, RawHttp.status(answer), encoding + ": " + answer);
                JsonNode error = parse(RawHttp.body(answer)).path("error");
                assertEquals("unsupported_transfer_encoding", error.path("code").asText(), answer);
            }
        }
        assertEquals(0, FakeBackends.alpha().completionRequests().size(), "nothing may be forwarded");
    }

    @Test
    void overlongAndOtherMalformedUtf8IsRefused() throws Exception {
        int[][] malformed = {
                {0xC0, 0xAF},             // overlong '/'
                {0xC0, 0xA2},             // overlong '"'
                {0xE0, 0x80, 0xAF},       // overlong, three bytes
                {0xF0, 0x80, 0x80, 0xAF}, // overlong, four bytes
                {0xED, 0xA0, 0x80},       // a UTF-16 surrogate
                {0xF4, 0x90, 0x80, 0x80}, // beyond U+10FFFF
                {0xF8, 0x88, 0x80, 0x80, 0x80},
                {0x80},                   // a lone continuation byte
                {0xE2, 0x82}};            // truncated
        for (int[] bytes : malformed) {
            byte[] prefix = "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"a".getBytes();
            byte[] suffix = "b\"}]}".getBytes();
            byte[] body = new byte[prefix.length + bytes.length + suffix.length];
            System.arraycopy(prefix, 0, body, 0, prefix.length);
            for (int i = 0; i < bytes.length; i++) {
                body[prefix.length + i] = (byte) bytes[i];
            }
            System.arraycopy(suffix, 0, body, prefix.length + bytes.length, suffix.length);
            try (java.net.Socket socket = new java.net.Socket("127.0.0.1", gatewayPort())) {
                socket.getOutputStream().write(("POST " + CHAT + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes());
                socket.getOutputStream().write(body);
                String answer = new String(socket.getInputStream().readAllBytes());
                String name = java.util.Arrays.toString(bytes);
                assertEquals(400, RawHttp.status(answer), name + ": " + answer);
                assertTrue(answer.contains("invalid_json"), name + ": " + answer);
            }
        }
        assertEquals(0, FakeBackends.alpha().completionRequests().size());
    }

    private static JsonNode parse(String body) {
        try {
            return MAPPER.readTree(body);
        } catch (Exception e) {
            return MAPPER.createObjectNode();
        }
    }
}

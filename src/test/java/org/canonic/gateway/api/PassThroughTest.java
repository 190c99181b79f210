package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.Received;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.canonic.gateway.testing.GatewayClient.dataPayloads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class PassThroughTest extends GatewayTest {

    private static final String TOOL_CALL_DELTA = "\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
            + "\"function\":{\"name\":\"read_file\",\"arguments\":\"{\\\"path\\\":\\\"a.txt\\\"}\"}}]";

    private static final String REQUEST_WITH_EXTRAS = """
            {"model":"main-model","stream":STREAM,
             "messages":[{"role":"system","content":"be brief"},
                         {"role":"user","content":[{"type":"text","text":"read a.txt"}]}],
             "tools":[{"type":"function","function":{"name":"read_file","parameters":{"type":"object",
                       "properties":{"path":{"type":"string"}},"required":["path"]}}}],
             "tool_choice":"auto","parallel_tool_calls":false,
             "top_k":40,"min_p":0.05,"repetition_penalty":1.10,"chat_template_kwargs":{"enable_thinking":false},
             "x_unknown":{"nested":[1,2.50,"three",null,true]},"temperature":0.7}
            """;

    @Test
    void streamPassesUnknownFieldsUpstreamAndToolCallDeltasBackUnchanged() {
        alpha().then(Behavior.stream(3).deltaExtra(TOOL_CALL_DELTA));
        String sent = REQUEST_WITH_EXTRAS.replace("STREAM", "true");

        HttpResponse<String> response = gateway.post("/v1/chat/completions", sent);

        assertEquals(200, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        Received upstream = alpha().lastCompletion();
        assertEquals(withoutGoverned(sent), withoutGoverned(upstream.body), "ungoverned fields must pass unchanged");
        assertTrue(upstream.body.contains("1.10") && upstream.body.contains("2.50"),
                "numbers must keep their exact text: " + upstream.body);
        assertEquals(FakeBackends.ALPHA_MODEL, json(upstream.body).get("model").asText());

        List<String> payloads = dataPayloads(response.body());
        // role chunk, 3 content chunks, finish chunk, [DONE]; the usage chunk was not asked for
        assertEquals(6, payloads.size(), response.body());
        assertEquals("[DONE]", payloads.get(payloads.size() - 1));
        for (int i = 1; i <= 3; i++) {
            JsonNode delta = json(payloads.get(i)).at("/choices/0/delta");
            assertEquals("tok" + (i - 1), delta.get("content").asText());
            assertEquals("read_file", delta.at("/tool_calls/0/function/name").asText());
            assertEquals("{\"path\":\"a.txt\"}", delta.at("/tool_calls/0/function/arguments").asText());
        }
    }

    @Test
    void nonStreamPassesUnknownFieldsUpstreamAndTheBodyBackUnchanged() {
        String upstreamBody = "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
                + "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"arguments\":\"{}\"}}]},"
                + "\"logprobs\":null,\"finish_reason\":\"tool_calls\",\"stop_reason\":null}],"
                + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13},\"vendor_extra\":42}";
        alpha().then(Behavior.json(200, upstreamBody));
        String sent = REQUEST_WITH_EXTRAS.replace("STREAM", "false");

        HttpResponse<String> response = gateway.post("/v1/chat/completions", sent);

        assertEquals(200, response.statusCode(), response.body());
        assertEquals(withoutGoverned(sent), withoutGoverned(alpha().lastCompletion().body));
        com.fasterxml.jackson.databind.node.ObjectNode answer = (com.fasterxml.jackson.databind.node.ObjectNode)
                json(response.body());
        JsonNode gateway = answer.remove("gateway");
        assertEquals(json(upstreamBody), answer, "the backend's answer is relayed unchanged");
        assertEquals("alpha", gateway.get("provider_used").asText());
        assertEquals(1, gateway.get("attempts").asInt());
        assertTrue(gateway.get("elapsed_ms").asLong() >= 0);
    }

    @Test
    void aNonStreamAnswerComesBackByteForByteWithTheGatewayMemberSplicedIn() {
        // Numbers a parse and re-serialization would rewrite (-1.23E-4, 1.0E-7, 0.1), odd spacing, a vendor member.
        String upstreamBody = "{\"id\":\"chatcmpl-2\", \"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},"
                + "\"logprobs\":{\"content\":[{\"token\":\"ok\",\"logprob\":-0.000123,\"bytes\":[111,107],"
                + "\"top_logprobs\":[{\"token\":\"ok\",\"logprob\":1e-7},{\"token\":\"no\",\"logprob\":-0.10}]}]},"
                + "\"finish_reason\":\"stop\",\"stop_reason\":null}],"
                + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":1,\"total_tokens\":12},\"temperature\":0.10}\n";
        alpha().then(Behavior.json(200, upstreamBody));

        HttpResponse<String> response = gateway.post("/v1/chat/completions",
                "{\"model\":\"main-model\",\"logprobs\":true,\"top_logprobs\":2,"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertEquals(200, response.statusCode(), response.body());
        String body = response.body();
        int close = upstreamBody.lastIndexOf('}');
        assertEquals(upstreamBody.substring(0, close), body.substring(0, Math.min(close, body.length())),
                "every byte the backend sent, up to its closing brace");
        String added = body.substring(close);
        assertTrue(added.matches(",\"gateway\":\\{\"provider_used\":\"alpha\",\"elapsed_ms\":\\d+,\"attempts\":1}}"),
                "only the gateway member is added: " + added);
    }

    @Test
    void usageChunkIsAlwaysRequestedUpstreamButOnlyRelayedWhenTheClientAsked() {
        String withoutUsage = "{\"model\":\"main-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> plain = gateway.post("/v1/chat/completions", withoutUsage);
        assertTrue(json(alpha().lastCompletion().body).at("/stream_options/include_usage").asBoolean());
        assertFalse(plain.body().contains("\"usage\""), "usage chunk must be stripped: " + plain.body());
        assertTrue(plain.body().contains("data: [DONE]"));

        String withUsage = "{\"model\":\"main-model\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        HttpResponse<String> asked = gateway.post("/v1/chat/completions", withUsage);
        List<String> payloads = dataPayloads(asked.body());
        JsonNode usage = json(payloads.get(payloads.size() - 2));
        assertEquals(0, usage.get("choices").size());
        assertEquals(14, usage.at("/usage/total_tokens").asInt());
    }

    @Test
    void legacyCompletionsEndpointIsProxiedToTheSamePathUpstream() {
        HttpResponse<String> response = gateway.post("/v1/completions",
                "{\"model\":\"main-model\",\"prompt\":\"def f():\",\"stream\":true,\"echo\":false}");
        assertEquals(200, response.statusCode(), response.body());
        Received upstream = alpha().lastCompletion();
        assertEquals("/v1/completions", upstream.path);
        assertEquals("def f():", json(upstream.body).get("prompt").asText());
    }

    @Test
    void aBackendWithAKeyFileSendsItsTrimmedContentUpstream() {
        alpha().always(org.canonic.gateway.testing.Behavior.status(500));
        HttpResponse<String> answer = gateway.post("/v1/chat/completions",
                org.canonic.gateway.testing.GatewayClient.chat("solo-model", false));
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("Bearer " + FakeBackends.OMEGA_KEY,
                org.canonic.gateway.testing.FakeBackends.omega().lastCompletion().headers.get("authorization"));
    }

    @Test
    void upstreamGetsTheBackendKeyNeverTheClientsAndNoHopByHopHeaders() {
        gateway.post("/v1/chat/completions", "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                "authorization", "Bearer client-key-must-not-travel", "x-session-id", "sess-42",
                "user-agent", "Kilo-Code/4.0", "x-title", "Kilo Code", "cookie", "a=b");
        Received upstream = alpha().lastCompletion();
        assertEquals("Bearer " + FakeBackends.ALPHA_KEY, upstream.headers.get("authorization"));
        assertEquals("sess-42", upstream.headers.get("x-session-id"));
        assertEquals("Kilo Code", upstream.headers.get("x-title"));
        assertEquals("Kilo-Code/4.0", upstream.headers.get("user-agent"));
        assertNull(upstream.headers.get("cookie"));
        assertFalse(upstream.headers.toString().contains("client-key-must-not-travel"));
        assertEquals("identity", upstream.headers.get("accept-encoding"));
    }

    @Test
    void onlyAllowListedClientHeadersTravelAndTheirTotalSizeIsBounded() {
        gateway.post("/v1/chat/completions",
                "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                "x-padding", "p".repeat(5000), "x-forwarded-for", "203.0.113.9", "forwarded", "for=203.0.113.9",
                "via", "1.1 evil", "x-stainless-lang", "java", "openai-organization", "org-1", "x-custom", "c",
                "x-session-affinity", "aff-1", "http-referer", "https://kilocode.ai", "x-title", "t".repeat(9000));
        Received upstream = alpha().lastCompletion();
        for (String dropped : List.of("x-padding", "x-forwarded-for", "forwarded", "via", "x-stainless-lang",
                "openai-organization", "x-custom")) {
            assertNull(upstream.headers.get(dropped), dropped + " must not travel upstream");
        }
        assertEquals("aff-1", upstream.headers.get("x-session-affinity"));
        assertEquals("https://kilocode.ai", upstream.headers.get("http-referer"));
        assertNull(upstream.headers.get("x-title"), "a value that would push the forwarded headers past 8 KiB is dropped");
    }

    @Test
    void everyAnswerCarriesTheGatewayHeadersAndPropagatesTheRequestId() {
        HttpResponse<String> response = gateway.post("/v1/chat/completions",
                "{\"model\":\"main-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                "x-request-id", "trace-abc.123");
        assertEquals("trace-abc.123", response.headers().firstValue("x-request-id").orElse(null));
        assertEquals("alpha", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals("1", response.headers().firstValue("x-gateway-attempts").orElse(null));
        assertTrue(Long.parseLong(response.headers().firstValue("x-gateway-elapsed-ms").orElse("-1")) >= 0);
        assertEquals("trace-abc.123", alpha().lastCompletion().headers.get("x-request-id"));

        HttpResponse<String> refused = gateway.post("/v1/chat/completions", "{\"model\":\"nope\"}",
                "x-request-id", "bad id with spaces");
        assertEquals(32, refused.headers().firstValue("x-request-id").orElse("").length(),
                "an unsafe client id is replaced by a generated one");
        assertEquals("none", refused.headers().firstValue("x-gateway-provider").orElse(null));
    }

    @Test
    void aBaseUrlWithoutV1StillReachesTheV1Routes() {
        alpha().always(Behavior.status(500));
        HttpResponse<String> response = gateway.post("/v1/chat/completions", "{\"model\":\"main-model\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("beta", response.headers().firstValue("x-gateway-provider").orElse(null));
        assertEquals("/v1/chat/completions", beta().lastCompletion().path);
    }

    @Test
    void streamsAreSentUncompressedWithTheHeadersThatStopProxyBuffering() {
        HttpResponse<String> response = gateway.post("/v1/chat/completions", "{\"model\":\"main-model\",\"stream\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "accept-encoding", "gzip, br, zstd");
        assertEquals("no-cache, no-transform", response.headers().firstValue("cache-control").orElse(null));
        assertEquals("no", response.headers().firstValue("x-accel-buffering").orElse(null));
        assertTrue(response.headers().firstValue("content-encoding").isEmpty());
    }
}

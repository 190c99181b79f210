package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.canonic.gateway.testing.Received;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.GatewayClient.dataPayloads;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A request shaped like the Kilo Code plugin's first turn: ~50 KB, 16 tools, content parts, stream with usage. */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class KiloCodeRequestTest extends GatewayTest {

    static String kiloCodeTurn(String model) {
        ObjectNode body = MAPPER.createObjectNode();
        body.put("model", model);
        body.put("temperature", 0);
        body.put("max_tokens", 8192);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        body.put("parallel_tool_calls", false);
        body.put("tool_choice", "auto");
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", "You are Kilo Code, a highly skilled software engineer. "
                .repeat(800));
        ArrayNode parts = messages.addObject().put("role", "user").putArray("content");
        parts.addObject().put("type", "text").put("text", "<task>\nFix the failing test in src/app.ts\n</task>");
        parts.addObject().put("type", "text").put("text", "<environment_details>\n# Current Time\n2026-11-22"
                + "\n# Files\nsrc/app.ts\nsrc/app.test.ts\n</environment_details>");
        ArrayNode tools = body.putArray("tools");
        String[] names = {"read_file", "write_to_file", "apply_diff", "search_files", "list_files",
                "list_code_definition_names", "execute_command", "browser_action", "ask_followup_question",
                "attempt_completion", "switch_mode", "new_task", "insert_content", "search_and_replace",
                "codebase_search", "update_todo_list"};
        for (String name : names) {
            ObjectNode function = tools.addObject().put("type", "function").putObject("function");
            function.put("name", name).put("description", ("Use " + name + " when the task needs it. ").repeat(6));
            ObjectNode parameters = function.putObject("parameters").put("type", "object");
            ObjectNode properties = parameters.putObject("properties");
            properties.putObject("path").put("type", "string").put("description", "Path relative to the workspace");
            properties.putObject("line_range").put("type", "array").putObject("items").put("type", "integer");
            parameters.putArray("required").add("path");
            parameters.put("additionalProperties", false);
            function.put("strict", true);
        }
        return body.toString();
    }

    @Test
    void aKiloCodeTurnStreamsThroughIntact() {
        String sent = kiloCodeTurn("main-model");
        assertTrue(sent.length() > 45_000, "the fixture must be Kilo-sized: " + sent.length());

        HttpResponse<String> response = gateway.post("/v1/chat/completions", sent,
                "authorization", "Bearer kilo-client-key", "user-agent", "Kilo-Code/4.90.0 (vscode)",
                "x-title", "Kilo Code", "http-referer", "https://kilocode.ai", "x-session-id", "s-1",
                "x-session-affinity", "s-1", "accept-encoding", "br, zstd, gzip");

        assertEquals(200, response.statusCode(), response.body());
        Received upstream = alpha().lastCompletion();
        assertEquals(withoutGoverned(sent), withoutGoverned(upstream.body));
        assertEquals(16, json(upstream.body).get("tools").size());
        assertEquals("s-1", upstream.headers.get("x-session-affinity"));
        List<String> payloads = dataPayloads(response.body());
        assertEquals("[DONE]", payloads.get(payloads.size() - 1));
        assertTrue(json(payloads.get(payloads.size() - 2)).has("usage"), "Kilo Code asked for usage");
        assertTrue(response.headers().firstValue("content-encoding").isEmpty());
    }
}

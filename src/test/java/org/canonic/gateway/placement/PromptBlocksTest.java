package org.canonic.gateway.placement;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Prompts cut into chained blocks: a shared prefix shares its hashes, and only its hashes. */
class PromptBlocksTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static ObjectNode chat(String system, String... turns) {
        ObjectNode body = JSON.createObjectNode().put("model", "m");
        ArrayNode messages = body.putArray("messages");
        messages.addObject().put("role", "system").put("content", system);
        for (int i = 0; i < turns.length; i++) {
            messages.addObject().put("role", i % 2 == 0 ? "user" : "assistant").put("content", turns[i]);
        }
        return body;
    }

    @Test
    void aLongerConversationKeepsEveryBlockOfTheShorterOne() {
        String system = "You are a careful coding agent. ".repeat(100);
        PromptBlocks first = PromptBlocks.of(chat(system, "read main.py"), true);
        PromptBlocks next = PromptBlocks.of(chat(system, "read main.py", "Here it is: ...", "now fix the bug"), true);
        assertTrue(first.count() > 40, "a 3 KB prompt is ~50 blocks: " + first.count());
        assertTrue(next.count() > first.count());
        // Every full block of the first prompt but the one its end cut (its text continues differently) is shared.
        for (int i = 0; i < first.count() - 1; i++) {
            assertEquals(first.hash(i), next.hash(i), "block " + i);
        }
    }

    @Test
    void aChangeEarlyOnChangesEveryBlockAfterIt() {
        String system = "x".repeat(64 * 10);
        PromptBlocks a = PromptBlocks.of(chat(system, "same question ".repeat(20)), true);
        PromptBlocks b = PromptBlocks.of(chat(system.substring(0, 300) + "y" + system.substring(301),
                "same question ".repeat(20)), true);
        assertEquals(a.count(), b.count());
        int firstDifferent = 0;
        while (a.hash(firstDifferent) == b.hash(firstDifferent)) {
            firstDifferent++;
        }
        // "system\n" is 7 characters, so character 300 of the system prompt is in block (7 + 300) / 64 = 4.
        assertEquals(4, firstDifferent);
        for (int i = firstDifferent; i < a.count(); i++) {
            assertNotEquals(a.hash(i), b.hash(i), "chained: block " + i + " differs too");
        }
    }

    @Test
    void onlyFullBlocksAreHashedAndTokensAreCharactersOverFour() {
        ObjectNode body = JSON.createObjectNode().put("prompt", "z".repeat(64 * 3 + 10));
        PromptBlocks blocks = PromptBlocks.of(body, false);
        assertEquals(3, blocks.count());
        assertEquals(64 * 3 + 10, blocks.chars());
        assertEquals((64 * 3 + 10 + 3) / 4, blocks.tokens());
        assertEquals(3, blocks.uncachedTokens(3), "the 10 characters past the cached blocks");
        assertEquals(blocks.tokens(), blocks.uncachedTokens(0));
        assertEquals(blocks.chars(), PromptBlocks.charsOf(body, false));
    }

    @Test
    void toolsComeFirstAndRolesCount() {
        ObjectNode plain = chat("s", "hello there, this is a message long enough for a block or two of text");
        ObjectNode withTools = plain.deepCopy();
        withTools.putArray("tools").addObject().put("type", "function").putObject("function").put("name", "read");
        assertNotEquals(PromptBlocks.of(plain, true).hash(0), PromptBlocks.of(withTools, true).hash(0));
        ObjectNode asAssistant = plain.deepCopy();
        ((ObjectNode) asAssistant.get("messages").get(1)).put("role", "assistant");
        assertNotEquals(PromptBlocks.of(plain, true).hash(0), PromptBlocks.of(asAssistant, true).hash(0));
    }
}

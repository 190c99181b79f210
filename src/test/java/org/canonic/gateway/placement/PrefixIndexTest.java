package org.canonic.gateway.placement;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.backend.Clocks;
import org.canonic.gateway.backend.UpstreamEndpoint;
import org.canonic.gateway.fleet.LiveBackend;
import org.canonic.gateway.fleet.LiveBackends;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.canonic.gateway.placement.PromptBlocksTest.chat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The route's index of who holds which prompt prefix: longest matches, its memory ceiling, forgetting. */
class PrefixIndexTest {

    static LiveBackend backend(String name) {
        return LiveBackends.of(new Backend(name, UpstreamEndpoint.parse("http://127.0.0.1:9/v1"), "m", 1, 0,
                new Clocks(1000, 1000, 1000, 1000), 1000, Backend.ProbeKind.NONE, 0, 0, null, false));
    }

    @Test
    void eachBackendMatchesTheLongestPrefixItWasSent() {
        PrefixIndex index = new PrefixIndex(1 << 20, 600);
        LiveBackend a = backend("a");
        LiveBackend b = backend("b");
        String system = "shared system prompt and tools. ".repeat(40);
        PromptBlocks turn1 = PromptBlocks.of(chat(system, "task one: " + "read files ".repeat(30)), true);
        PromptBlocks turn2 = PromptBlocks.of(chat(system, "task one: " + "read files ".repeat(30),
                "done reading", "now edit " + "lines ".repeat(50)), true);
        PromptBlocks other = PromptBlocks.of(chat(system, "task two: something else entirely ".repeat(10)), true);
        assertArrayEquals(new int[]{0, 0}, index.match(turn2, List.of(a, b)), "nothing is known yet");

        index.record(turn1, a);
        index.record(other, b);
        int[] matched = index.match(turn2, List.of(a, b));
        assertEquals(turn1.count(), matched[0], "a holds every full block of turn 1, the start of turn 2");
        int sharedSystemBlocks = (("system\n" + system).length()) / PromptBlocks.BLOCK_CHARS;
        assertEquals(sharedSystemBlocks, matched[1], "b holds only the shared system prompt");
        assertEquals(0, index.match(turn2, List.of(backend("c")))[0], "a backend never sent anything holds nothing");
    }

    @Test
    void neverTakesMoreMemoryThanItsCeiling() {
        long ceiling = 256 * 1024;
        PrefixIndex index = new PrefixIndex(ceiling, 600);
        LiveBackend a = backend("a");
        for (int i = 0; i < 400; i++) {
            index.record(PromptBlocks.of(chat("conversation " + i + " " + "words ".repeat(200)), true), a);
            assertTrue(index.bytes() <= ceiling, "after " + i + " prompts: " + index.bytes() + " bytes");
        }
        assertTrue(index.bytes() > ceiling / 2, "it did grow to use its room: " + index.bytes());
        // ~20 blocks a prompt, 400 prompts: 8000 blocks through an index of two 6553-entry tables half full at most.
        assertTrue(index.entries() < 8000, "older generations were forgotten: " + index.entries());
        PromptBlocks recent = PromptBlocks.of(chat("conversation 399 " + "words ".repeat(200)), true);
        assertEquals(recent.count(), index.match(recent, List.of(a))[0], "the most recent prompt is still known");
        PromptBlocks old = PromptBlocks.of(chat("conversation 0 " + "words ".repeat(200)), true);
        assertEquals(0, index.match(old, List.of(a))[0], "the oldest one is not");
    }

    @Test
    void blocksNotUsedWithinTheirTimeToLiveCountAsEvicted() throws Exception {
        PrefixIndex index = new PrefixIndex(1 << 20, 1);
        LiveBackend a = backend("a");
        PromptBlocks prompt = PromptBlocks.of(chat("remember me ".repeat(40)), true);
        index.record(prompt, a);
        assertEquals(prompt.count(), index.match(prompt, List.of(a))[0]);
        Thread.sleep(2100);
        assertEquals(0, index.match(prompt, List.of(a))[0]);
    }
}

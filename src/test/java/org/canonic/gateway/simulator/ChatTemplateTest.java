package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rendering, token arithmetic and output lengths, as the simulator counts them. */
class ChatTemplateTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void aChatIsRenderedAsQwensChatMlWithToolsFirst() throws Exception {
        JsonNode request = json("""
                {"model":"m","tools":[{"type":"function","function":{"name":"ls"}}],"messages":[
                 {"role":"system","content":"Be brief."},
                 {"role":"user","content":[{"type":"text","text":"list "},{"type":"text","text":"files"}]},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"c1","function":{"name":"ls"}}]},
                 {"role":"tool","tool_call_id":"c1","content":"a.txt"}]}""");
        assertEquals("<|im_start|>system\n[{\"type\":\"function\",\"function\":{\"name\":\"ls\"}}]<|im_end|>\n"
                + "<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nlist files<|im_end|>\n"
                + "<|im_start|>assistant\n[{\"id\":\"c1\",\"function\":{\"name\":\"ls\"}}]<|im_end|>\n"
                + "<|im_start|>tool\na.txt<|im_end|>\n"
                + "<|im_start|>assistant\n", ChatTemplate.render(request, true));
    }

    @Test
    void aCompletionPromptIsTakenAsItIsAndTokensAreFourCharactersRoundedUp() throws Exception {
        assertEquals("abcdefghi", ChatTemplate.render(json("{\"prompt\":\"abcdefghi\"}"), false));
        assertEquals(3, SequenceText.tokens("abcdefghi"));
        assertEquals(2, SequenceText.tokens("abcdefgh"));
        assertEquals(3, SimulatedAnswers.promptTokens(json("{\"prompt\":\"abcdefghi\"}")));
        // "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" is 52 characters.
        assertEquals(13, SimulatedAnswers.promptTokens(json("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")));
    }

    @Test
    void aNextTurnQuotingTheAnswerExtendsThePromptAndTheAnswerExactly() throws Exception {
        SimulatedAnswers answers = new SimulatedAnswers(16384);
        SimulatedAnswers.Answer first = answers.answer(json(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"), true);
        String next = ChatTemplate.render(json("{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"},"
                + "{\"role\":\"assistant\",\"content\":" + JSON.writeValueAsString(first.text()) + "},"
                + "{\"role\":\"user\",\"content\":\"more\"}]}"), true);
        assertTrue(next.startsWith(first.prompt() + first.text()), next);
    }

    @Test
    void maxCompletionTokensWinsAndIgnoreEosGeneratesExactlyTheLimit() throws Exception {
        SimulatedAnswers answers = new SimulatedAnswers(16384);
        SimulatedAnswers.Answer free = answers.answer(json("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), true);
        assertEquals("stop", free.finishReason());
        assertEquals((free.text().length() + 3) / 4, free.completionTokens());

        SimulatedAnswers.Answer capped = answers.answer(json("{\"max_tokens\":100,\"max_completion_tokens\":5,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), true);
        assertEquals(5, capped.completionTokens());
        assertEquals("length", capped.finishReason());

        SimulatedAnswers.Answer forced = answers.answer(json("{\"max_tokens\":333,\"ignore_eos\":true,"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"), true);
        assertEquals(333, forced.completionTokens());
        assertEquals("length", forced.finishReason());
        assertEquals(4, forced.token(332).length());
    }

    @Test
    void aPromptAndLimitBeyondTheWindowIsRefusedWithVllmsMessage() {
        SimulatedAnswers answers = new SimulatedAnswers(100);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> answers.answer(
                json("{\"max_tokens\":90,\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(200)
                        + "\"}]}"), true));
        assertTrue(refused.getMessage().startsWith("This model's maximum context length is 100 tokens. However, you "
                + "requested 153 tokens (63 in the messages, 90 in the completion)."), refused.getMessage());
    }
}

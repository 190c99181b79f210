package org.canonic.gateway.backend;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A /tokenize answer is read for its count alone: never built as a tree, whatever else it holds. */
class TokenizerTest {

    @Test
    void theCountIsReadWhereverItIsAndNothingElseIsKept() {
        assertEquals(7, Tokenizer.countOf(Buffer.buffer("{\"count\":7,\"max_model_len\":8192,\"tokens\":[1,2,3]}")));
        StringBuilder tokens = new StringBuilder("{\"tokens\":[");
        for (int i = 0; i < 100_000; i++) {
            tokens.append(i).append(',');
        }
        tokens.append("0],\"extra\":{\"a\":[{}]},\"count\":100001}");
        assertEquals(100_001, Tokenizer.countOf(Buffer.buffer(tokens.toString())), "after a long token list");
        // The count comes first: whatever follows (even broken JSON) is never read.
        assertEquals(3, Tokenizer.countOf(Buffer.buffer("{\"count\":3,\"tokens\":[1,2,")));
    }

    @Test
    void anAnswerWithoutAUsableCountIsAFailure() {
        for (String answer : new String[] {"", "[]", "{\"tokens\":[1]}", "{\"count\":\"3\"}", "{\"count\":-1}",
                "{\"count\":3000000000}", "<html>", "{\"count\":1.5}"}) {
            assertEquals(-1, Tokenizer.countOf(Buffer.buffer(answer)), answer);
        }
    }
}

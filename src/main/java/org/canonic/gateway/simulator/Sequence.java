package org.canonic.gateway.simulator;

import java.util.ArrayList;
import java.util.List;

/**
 * One request inside a simulated engine: its text and answer length, where it stands (waiting, prefilling, decoding)
 * and the KV blocks it holds. Everything but the constructor's arguments belongs to the engine's thread.
 */
final class Sequence {

    enum State { WAITING, RUNNING, FINISHED, ABORTED }

    final SequenceText text;
    /** Tokens to generate: the answer, already cut to the request's limit. */
    final int outputTokens;
    final TokenSink sink;

    State state = State.WAITING;
    /** Answer tokens already sampled (and delivered); they survive a preemption. */
    int generated;
    /** Tokens whose KV is computed (a cached prefix counts). */
    int computed;
    /** Tokens to compute before the next token can be sampled: the prompt, or after a preemption prompt + answer. */
    int target;
    /** True once this admission sampled a token: each step then computes one token and samples the next. */
    boolean decoding;
    /** Whether its prompt tokens were counted (once, at its first token, as vLLM's counter does). */
    boolean promptCounted;
    final List<KvBlockPool.Block> blocks = new ArrayList<>();
    /** How many of {@link #blocks} are in the pool's index. */
    int indexed;

    Sequence(SequenceText text, TokenSink sink) {
        this.text = text;
        this.outputTokens = text.answerTokens();
        this.sink = sink;
    }

    int promptTokens() {
        return text.promptTokens();
    }

    boolean prefilling() {
        return !decoding;
    }

    /** Prefill tokens left in this admission. */
    int prefillLeft() {
        return target - computed;
    }
}

package org.canonic.gateway.simulator;

import java.util.Arrays;

/**
 * The text a sequence puts in the KV cache: its rendered prompt, then the answer it will generate. Tokens are four
 * characters (the prompt's last one may be shorter, and so may the answer's), so token counts and character offsets
 * convert both ways; a KV block is {@value #BLOCK_CHARS} characters (16 tokens) and each full block has a chain hash,
 * which is how a later request that repeats this text (a next turn quoting the answer) finds it in the cache.
 */
final class SequenceText {

    static final int CHARS_PER_TOKEN = 4;
    static final int BLOCK_TOKENS = 16;
    static final int BLOCK_CHARS = BLOCK_TOKENS * CHARS_PER_TOKEN;

    private static final long FNV_PRIME = 0x100000001B3L;
    private static final long FIRST_BLOCK_PARENT = 0x6A09E667F3BCC908L;

    private final String prompt;
    private final String answer;
    private final int promptTokens;
    private final int answerTokens;
    private long[] hashes = new long[0];
    private int hashed;

    SequenceText(String prompt, String answer) {
        this.prompt = prompt;
        this.answer = answer;
        this.promptTokens = tokens(prompt);
        this.answerTokens = (answer.length() + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
    }

    /** Tokens of a rendered text: four characters each, rounded up; at least one, as an empty prompt still runs. */
    static int tokens(String text) {
        return Math.max(1, (text.length() + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN);
    }

    int promptTokens() {
        return promptTokens;
    }

    int answerTokens() {
        return answerTokens;
    }

    /** The characters the first {@code tokens} tokens of prompt-then-answer cover. */
    int charsAt(int tokens) {
        if (tokens <= promptTokens) {
            return Math.min(tokens * CHARS_PER_TOKEN, prompt.length());
        }
        return prompt.length() + Math.min((tokens - promptTokens) * CHARS_PER_TOKEN, answer.length());
    }

    /** How many whole tokens lie within the first {@code chars} characters. */
    int tokensWithin(int chars) {
        if (chars >= prompt.length() + answer.length()) {
            return promptTokens + answerTokens;
        }
        if (chars < prompt.length()) {
            return chars / CHARS_PER_TOKEN;
        }
        return promptTokens + (chars - prompt.length()) / CHARS_PER_TOKEN;
    }

    /** Blocks needed to hold the KV of the first {@code tokens} tokens. */
    int blocksFor(int tokens) {
        return (charsAt(tokens) + BLOCK_CHARS - 1) / BLOCK_CHARS;
    }

    /** Full blocks among the first {@code tokens} tokens: only those can be cached and found again. */
    int fullBlocksAt(int tokens) {
        return charsAt(tokens) / BLOCK_CHARS;
    }

    /**
     * The chain hash of a full block: it covers the block's characters and, through its parent's hash, everything
     * before them, so equal hashes mean equal prefixes (vLLM's automatic prefix caching keys blocks the same way).
     */
    long blockHash(int block) {
        if (block >= hashed) {
            if (block >= hashes.length) {
                hashes = Arrays.copyOf(hashes, Math.max(block + 1, hashes.length * 2));
            }
            for (; hashed <= block; hashed++) {
                hashes[hashed] = chain(hashed == 0 ? FIRST_BLOCK_PARENT : hashes[hashed - 1], hashed * BLOCK_CHARS);
            }
        }
        return hashes[block];
    }

    private long chain(long parent, int from) {
        long hash = mix(parent);
        for (int i = from; i < from + BLOCK_CHARS; i++) {
            hash = (hash ^ charAt(i)) * FNV_PRIME;
        }
        return mix(hash);
    }

    private char charAt(int index) {
        return index < prompt.length() ? prompt.charAt(index) : answer.charAt(index - prompt.length());
    }

    /** MurmurHash3's 64-bit finaliser: FNV-1a alone spreads its last characters poorly over the high bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}

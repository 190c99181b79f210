package org.canonic.gateway.placement;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * A prompt cut into fixed blocks of text, each named by a hash chained over every block before it, the way vLLM's
 * automatic prefix caching names its KV blocks: two prompts share the first n block hashes exactly when they share
 * the text of the first n blocks. The text is the prompt as a chat template renders it, in order: the tool schemas,
 * then every message (its role, then its content, tool calls and the rest). Tokens are approximated by characters, as
 * llm-d's approximate prefix scorer does: a block is {@value #BLOCK_CHARS} characters, about one 16-token KV block
 * at {@value #CHARS_PER_TOKEN} characters a token. A partial last block has no hash: vLLM caches only full blocks.
 *
 * <p>One pass over the parsed body: each character costs a multiply; a 50 KB Kilo Code prompt takes some tens of
 * microseconds, against the ~1 s of GPU prefill a cache miss of it costs.
 */
public final class PromptBlocks {

    public static final int BLOCK_CHARS = 64;
    public static final int CHARS_PER_TOKEN = 4;
    /** Blocks past this are not hashed (a 2 MiB body holds at most ~32k); their text still counts in the size. */
    static final int MAX_BLOCKS = 1 << 15;

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private final long[] hashes;
    private final int count;
    private final long chars;

    private PromptBlocks(long[] hashes, int count, long chars) {
        this.hashes = hashes;
        this.count = count;
        this.chars = chars;
    }

    /** The blocks of a chat request's tools and messages, or of a completion request's prompt. */
    public static PromptBlocks of(ObjectNode body, boolean chat) {
        Hasher hasher = new Hasher(true);
        render(body, chat, hasher);
        return hasher.result();
    }

    /** The prompt's rendered size only, without hashes (routes that do not place by prefix). */
    public static long charsOf(ObjectNode body, boolean chat) {
        Hasher counter = new Hasher(false);
        render(body, chat, counter);
        return counter.chars;
    }

    private static void render(ObjectNode body, boolean chat, Hasher hasher) {
        if (!chat) {
            hasher.walk(body.get("prompt"));
            return;
        }
        JsonNode tools = body.get("tools");
        if (tools != null && !tools.isNull()) {
            hasher.text("tools\n");
            hasher.walk(tools);
        }
        for (JsonNode message : body.path("messages")) {
            hasher.text(message.path("role").asText(""));
            hasher.text("\n");
            for (Iterator<Map.Entry<String, JsonNode>> fields = message.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                if (!field.getKey().equals("role")) {
                    hasher.walk(field.getValue());
                }
            }
            hasher.text("\n");
        }
    }

    /** Full blocks with a hash. */
    public int count() {
        return count;
    }

    /** The chain hash of block {@code index} (0-based). */
    public long hash(int index) {
        return hashes[index];
    }

    /** Characters of the rendered prompt. */
    public long chars() {
        return chars;
    }

    /** The prompt's estimated tokens. */
    public long tokens() {
        return (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
    }

    /** Estimated tokens left to prefill on a backend whose cache holds the first {@code cachedBlocks} blocks. */
    public long uncachedTokens(int cachedBlocks) {
        long left = Math.max(0, chars - (long) cachedBlocks * BLOCK_CHARS);
        return (left + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
    }

    /** Feeds rendered text, closing a block every {@value #BLOCK_CHARS} characters. */
    private static final class Hasher {
        private final boolean hashing;
        private long[] hashes;
        private int count;
        private long chars;
        private long chain = 0x9e3779b97f4a7c15L;
        private long block = FNV_OFFSET;
        private int inBlock;

        Hasher(boolean hashing) {
            this.hashing = hashing;
            this.hashes = hashing ? new long[64] : null;
        }

        void walk(JsonNode node) {
            if (node == null || node.isNull() || node.isMissingNode()) {
                return;
            }
            if (node.isTextual()) {
                text(node.textValue());
            } else if (node.isValueNode()) {
                text(node.asText());
            } else if (node.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = fields.next();
                    text(field.getKey());
                    text(":");
                    walk(field.getValue());
                    text("\n");
                }
            } else {
                for (JsonNode element : node) {
                    walk(element);
                }
            }
        }

        void text(String text) {
            chars += text.length();
            if (!hashing) {
                return;
            }
            for (int i = 0; i < text.length(); i++) {
                block = (block ^ text.charAt(i)) * FNV_PRIME;
                if (++inBlock == BLOCK_CHARS) {
                    close();
                }
            }
        }

        private void close() {
            chain = mix(chain ^ mix(block));
            block = FNV_OFFSET;
            inBlock = 0;
            if (count == MAX_BLOCKS) {
                return;
            }
            if (count == hashes.length) {
                hashes = Arrays.copyOf(hashes, hashes.length * 2);
            }
            // 0 marks an empty slot in the index's tables; a hash that happens to be 0 becomes 1.
            hashes[count++] = chain == 0 ? 1 : chain;
        }

        PromptBlocks result() {
            return new PromptBlocks(hashes, count, chars);
        }

        /** MurmurHash3's 64-bit finalizer: every input bit reaches every output bit. */
        private static long mix(long h) {
            h ^= h >>> 33;
            h *= 0xff51afd7ed558ccdL;
            h ^= h >>> 33;
            h *= 0xc4ceb53fe1a85a33L;
            h ^= h >>> 33;
            return h;
        }
    }
}

package org.canonic.gateway.backend;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * A non-stream answer read without building it: one streaming pass checks that it is a JSON object and keeps only
 * what the gateway needs ({@code usage}, each choice's {@code finish_reason}); the body itself is relayed as the
 * bytes that arrived. A parsed tree of a 15 MB answer costs several times 15 MB (decoded strings, the tree, a
 * re-serialized copy); forty of them were enough to exhaust a 512 MB heap.
 */
public final class NonStreamAnswer {

    /** A parser factory, not a mapper: the few nodes kept are built by hand (see {@link #tree}). */
    private static final JsonFactory JSON = new JsonFactory();
    /**
     * For large bodies: field names are not canonicalized. A body with a million distinct names would otherwise
     * fill (and rehash) a symbol table for nothing; skipping them costs a quarter of that.
     */
    private static final JsonFactory LARGE_JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build();

    /**
     * Answers up to this size are summarized on the event loop (well under a millisecond); larger ones on a worker
     * thread (see {@code UpstreamAttempt}): a 15 MB answer of a million small members takes seconds to tokenize.
     */
    public static final int INLINE_SUMMARY_BYTES = 64 * 1024;
    /** A stream's usage chunk over this size is not read (vLLM's is about 300 bytes): its usage is estimated. */
    public static final int MAX_USAGE_CHUNK_BYTES = 16 * 1024;
    /** Members (at every depth) a usage object may hold before it is treated as missing. */
    static final int MAX_USAGE_MEMBERS = 64;
    /** Nesting a usage object may have ({@code usage.prompt_tokens_details.cached_tokens} is depth 2). */
    static final int MAX_USAGE_DEPTH = 4;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static final byte[] GATEWAY_MEMBER = "\"gateway\":{\"provider_used\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ELAPSED_MS = "\",\"elapsed_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ATTEMPTS = ",\"attempts\":".getBytes(StandardCharsets.US_ASCII);

    private NonStreamAnswer() {
    }

    /**
     * The summary {@code {"usage":{...},"choices":[{"index":0,"finish_reason":"stop"},...]}} of an answer, or null
     * when the body is not one well-formed JSON object. String contents are skipped, never decoded.
     */
    public static ObjectNode summarize(Buffer body) {
        try (JsonParser parser = parserOf(body.getByteBuf())) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            ObjectNode summary = NODES.objectNode();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals("usage") && value == JsonToken.START_OBJECT) {
                    JsonNode usage = boundedTree(parser, value, new int[] {MAX_USAGE_MEMBERS}, MAX_USAGE_DEPTH);
                    if (usage != null) {
                        summary.set("usage", usage);
                    } else {
                        // Beyond the bounds: as if the backend had reported none; the record estimates it.
                        summary.remove("usage");
                    }
                } else if (name.equals("choices") && value == JsonToken.START_ARRAY) {
                    readChoices(parser, summary.putArray("choices"));
                } else {
                    parser.skipChildren();
                }
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                return null;
            }
            return summary;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The summary of a stream's usage chunk ({@code {"choices":[],"usage":{...}}}), or null when it is larger than
     * {@link #MAX_USAGE_CHUNK_BYTES} or not a JSON object; its {@code usage} is absent when over the bounds.
     */
    public static ObjectNode summarizeUsageChunk(Buffer chunk) {
        return chunk.length() > MAX_USAGE_CHUNK_BYTES ? null : summarize(chunk);
    }

    /** A parser over the bytes: in place when they are on the heap (as Vert.x hands them over), else as a stream. */
    private static JsonParser parserOf(ByteBuf bytes) throws IOException {
        JsonFactory factory = bytes.readableBytes() > INLINE_SUMMARY_BYTES ? LARGE_JSON : JSON;
        if (bytes.hasArray()) {
            return factory.createParser(bytes.array(), bytes.arrayOffset() + bytes.readerIndex(),
                    bytes.readableBytes());
        }
        return factory.createParser((InputStream) new ByteBufInputStream(bytes));
    }

    /**
     * As {@link #tree}, within bounds: null when the value holds more than {@code members[0]} members and elements
     * in all, or nests deeper than {@code depth}; the rest of the value is then skipped, never built.
     */
    private static JsonNode boundedTree(JsonParser parser, JsonToken value, int[] members, int depth)
            throws IOException {
        if (!value.isStructStart()) {
            return scalar(parser, value);
        }
        if (depth <= 0) {
            parser.skipChildren();
            return null;
        }
        boolean object = value == JsonToken.START_OBJECT;
        ObjectNode asObject = object ? NODES.objectNode() : null;
        ArrayNode asArray = object ? null : NODES.arrayNode();
        JsonToken token;
        while ((token = parser.nextToken()) != (object ? JsonToken.END_OBJECT : JsonToken.END_ARRAY)) {
            String name = null;
            if (object) {
                name = parser.currentName();
                token = parser.nextToken();
            }
            if (--members[0] < 0) {
                parser.skipChildren();
                skipRest(parser);
                return null;
            }
            JsonNode element = boundedTree(parser, token, members, depth - 1);
            if (element == null) {
                skipRest(parser);
                return null;
            }
            if (object) {
                asObject.set(name, element);
            } else {
                asArray.add(element);
            }
        }
        return object ? asObject : asArray;
    }

    /** Skips what is left of the object or array the parser is inside (its end included). */
    private static void skipRest(JsonParser parser) throws IOException {
        int open = 1;
        while (open > 0) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                throw new IOException("unexpected end of input");
            }
            if (token.isStructStart()) {
                open++;
            } else if (token.isStructEnd()) {
                open--;
            }
        }
    }

    private static void readChoices(JsonParser parser, ArrayNode choices) throws IOException {
        JsonToken element;
        while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (element != JsonToken.START_OBJECT) {
                parser.skipChildren();
                continue;
            }
            ObjectNode choice = choices.addObject();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if ((name.equals("finish_reason") || name.equals("index")) && value.isScalarValue()) {
                    choice.set(name, scalar(parser, value));
                } else {
                    parser.skipChildren();
                }
            }
        }
    }

    /**
     * The scalar under the parser as the node {@code readTree} would build, without a data-binding context per value
     * (two per choice had been most of the cost of reading an answer's summary).
     */
    private static JsonNode scalar(JsonParser parser, JsonToken value) throws IOException {
        return switch (value) {
            case VALUE_STRING -> NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT -> NODES.numberNode(parser.getIntValue());
                case LONG -> NODES.numberNode(parser.getLongValue());
                default -> NODES.numberNode(parser.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(parser.getDoubleValue());
            case VALUE_TRUE, VALUE_FALSE -> NODES.booleanNode(value == JsonToken.VALUE_TRUE);
            default -> NODES.nullNode();
        };
    }

    /** The value under the parser (its first token already read) as the tree {@code readTree} would build. */
    private static JsonNode tree(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.START_OBJECT) {
            ObjectNode object = NODES.objectNode();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                object.set(name, tree(parser, parser.nextToken()));
            }
            return object;
        }
        if (value == JsonToken.START_ARRAY) {
            ArrayNode array = NODES.arrayNode();
            JsonToken element;
            while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
                array.add(tree(parser, element));
            }
            return array;
        }
        return scalar(parser, value);
    }

    /** The answer's {@code choices} as a tree: only for ledgers that opted in to recording content. */
    public static JsonNode choices(Buffer body) {
        try (JsonParser parser = parserOf(body.getByteBuf())) {
            JsonToken start = parser.nextToken();
            return start == null ? null : tree(parser, start).get("choices");
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The answer with {@code "gateway":{"provider_used","elapsed_ms","attempts"}} added as its last member, built
     * around the bytes that arrived (no copy of the body): the closing brace is replaced by the new member.
     */
    public static Buffer withGatewayInfo(Buffer body, String provider, long elapsedMs, int attempts) {
        ByteBuf bytes = body.getByteBuf();
        int close = lastNonBlank(bytes, bytes.writerIndex() - 1);
        if (close < 0 || bytes.getByte(close) != '}') {
            return body;
        }
        int before = lastNonBlank(bytes, close - 1);
        boolean empty = before >= 0 && bytes.getByte(before) == '{';
        // Written as bytes: a JSON generator, a writer and string concatenation had cost more than the rest of
        // the splice. The provider name is quoted as a generator would quote it.
        byte[] name = JsonStringEncoder.getInstance().quoteAsUTF8(provider);
        ByteBuf member = Unpooled.buffer(GATEWAY_MEMBER.length + name.length + 64);
        if (!empty) {
            member.writeByte(',');
        }
        member.writeBytes(GATEWAY_MEMBER).writeBytes(name).writeBytes(ELAPSED_MS);
        member.writeCharSequence(Long.toString(elapsedMs), StandardCharsets.US_ASCII);
        member.writeBytes(ATTEMPTS);
        member.writeCharSequence(Integer.toString(attempts), StandardCharsets.US_ASCII);
        member.writeByte('}').writeByte('}');
        return Buffer.buffer(Unpooled.wrappedBuffer(bytes.slice(0, close), member));
    }

    private static int lastNonBlank(ByteBuf bytes, int from) {
        int i = from;
        while (i >= 0) {
            byte b = bytes.getByte(i);
            if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                return i;
            }
            i--;
        }
        return -1;
    }
}

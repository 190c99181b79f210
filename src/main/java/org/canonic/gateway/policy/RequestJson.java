package org.canonic.gateway.policy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.io.InputStream;

/**
 * The one JSON reader/writer for request bodies. It keeps numbers exactly as sent (no float rounding, no
 * {@code 1.10} turned into {@code 1.1}) so that fields the gateway does not govern reach the backend unchanged in
 * meaning, and it rejects duplicate keys: a body that says two different things must not be half-validated.
 */
public final class RequestJson {

    /** Deepest nesting accepted; real chat requests (tools with JSON schemas) stay far below. */
    public static final int MAX_NESTING_DEPTH = 64;

    private final ObjectMapper mapper;

    public RequestJson() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_NESTING_DEPTH)
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
        this.mapper = JsonMapper.builder(factory)
                .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    public JsonNode parse(Buffer body) throws IOException {
        ByteBuf bytes = body.getByteBuf();
        JsonNode node;
        if (bytes.hasArray()) {
            // Vert.x hands request bodies over as heap buffers: parse the array in place (no stream, no copy).
            node = mapper.readTree(bytes.array(), bytes.arrayOffset() + bytes.readerIndex(), bytes.readableBytes());
        } else {
            try (InputStream in = new ByteBufInputStream(bytes)) {
                node = mapper.readTree(in);
            }
        }
        if (node == null || node.isMissingNode()) {
            throw new com.fasterxml.jackson.core.JsonParseException((JsonParser) null, "no content");
        }
        return node;
    }

    public byte[] write(JsonNode node) {
        try {
            return mapper.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException("a parsed JSON tree could not be written back", e);
        }
    }

    public ObjectMapper mapper() {
        return mapper;
    }
}

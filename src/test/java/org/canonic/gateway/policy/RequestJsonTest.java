package org.canonic.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The request body reader gives one answer wherever the body's bytes lie: heap array, slice, chunks, direct memory. */
class RequestJsonTest {

    private static final String BODY = "{\"model\":\"m\",\"temperature\":1.10,\"logit_bias\":{\"42\":-0.000123},"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"h\\u00e9llo\"}]}";

    private final RequestJson json = new RequestJson();

    private static List<Buffer> placements(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        byte[] padded = new byte[bytes.length + 16];
        Arrays.fill(padded, (byte) '[');
        System.arraycopy(bytes, 0, padded, 9, bytes.length);
        int cut = bytes.length / 2;
        ByteBuf direct = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
        return List.of(
                Buffer.buffer(text),
                Buffer.buffer(Unpooled.wrappedBuffer(padded).slice(9, bytes.length)),
                Buffer.buffer(Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(bytes, 0, cut),
                        Unpooled.wrappedBuffer(bytes, cut, bytes.length - cut))),
                Buffer.buffer(direct));
    }

    @Test
    void theSameTreeWhereverTheBytesLieWithNumbersAsSent() throws IOException {
        for (Buffer body : placements(BODY)) {
            JsonNode tree = json.parse(body);
            assertEquals("1.10", tree.get("temperature").decimalValue().toPlainString(), "numbers are kept exactly");
            assertEquals("-0.000123", tree.at("/logit_bias/42").decimalValue().toPlainString());
            assertEquals("héllo", tree.at("/messages/0/content").asText());
            assertEquals(BODY.replace("h\\u00e9llo", "héllo"), new String(json.write(tree), StandardCharsets.UTF_8));
        }
    }

    @Test
    void emptyDuplicatedOrTrailingContentIsRefusedWhereverItLies() {
        for (String bad : new String[] {"", "   ", "{\"a\":1,\"a\":2}", "{\"a\":1} {\"b\":2}", "{\"a\":"}) {
            for (Buffer body : placements(bad)) {
                assertThrows(IOException.class, () -> json.parse(body), "'" + bad + "'");
            }
        }
    }
}

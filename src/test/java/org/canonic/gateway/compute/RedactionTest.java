package org.canonic.gateway.compute;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Provider text repeated by the gateway carries no secret; reconfigure arguments cannot touch the recipe's flags. */
class RedactionTest {

    static final String KEY = "mg-0123456789abcdef0123456789abcdef";

    @Test
    void anInstanceKeyInAnEchoedCommandLineIsRedactedInEveryShape() {
        for (String text : List.of(
                "OCI runtime create failed: exec vllm serve --model m --api-key " + KEY + " --port 8000",
                "args: --api-key=" + KEY,
                "{\"args\":[\"--model\",\"m\",\"--api-key\",\"" + KEY + "\"]}",
                "{\\\"args\\\":[\\\"--api-key\\\",\\\"" + KEY + "\\\"]}",
                "--API_KEY " + KEY,
                "Authorization: Bearer " + KEY,
                "api_key=" + KEY + "&x=1",
                "{\"token\": \"" + KEY + "\"}")) {
            String scrubbed = Redaction.scrub(text);
            assertFalse(scrubbed.contains(KEY), text + " -> " + scrubbed);
            assertFalse(scrubbed.contains(KEY.substring(0, 12)), text + " -> " + scrubbed);
            assertTrue(scrubbed.contains(Redaction.REDACTED), scrubbed);
        }
    }

    @Test
    void knownSecretsGoWhereverTheyAppearAndOrdinaryTextStays() {
        assertEquals("account [redacted] refused", Redaction.scrub("account vast-account-key-77 refused",
                List.of("vast-account-key-77")));
        String plain = "Error response from daemon: no such image vllm/vllm-openai:v0.7.3 (port 8000 busy)";
        assertEquals(plain, Redaction.scrub(plain, List.of("short", "")));
        assertNull(Redaction.scrub(null));
    }

    @Test
    void reconfigureArgumentsAreParsedAsVllmReadsThem() {
        assertEquals(List.of("--max-num-seqs", "64", "--enable-prefix-caching", "--swap-space=8"),
                VllmArgs.extra(List.of("--max-num-seqs", "64", "--enable-prefix-caching", "--swap-space=8")));
        for (List<String> bad : List.of(List.of("--api-key=x"), List.of("--api_key", "x"), List.of("--api-k", "x"),
                List.of("--port=9000"), List.of("--model=evil/model"), List.of("--MODEL", "m"),
                List.of("--served-model-name", "x"), List.of("--host=0.0.0.0"), List.of("--ssl-keyfile=/k"),
                List.of("--max-num-seqs 64 --api-key x"), List.of("evil/model"), List.of("--x", "a", "b"),
                List.of("-p", "9000"), List.of("--seed", "$(id)"), List.of("--seed", "1;rm"))) {
            ComputeException refused = assertThrows(ComputeException.class, () -> VllmArgs.extra(bad), bad::toString);
            assertEquals(400, refused.status());
            assertEquals("invalid_args", refused.code());
        }
    }
}

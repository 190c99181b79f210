package org.canonic.gateway.state;

import org.canonic.gateway.config.InvalidConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SealedValuesTest {

    static final String SECRET = "a-state-key-of-at-least-32-random-bytes-0123456789";

    @Test
    void aSealedValueOpensOnlyWithItsKeyForItsNameAndUnchanged(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("key");
        Files.writeString(file, SECRET + "\n");
        SealedValues seal = SealedValues.fromFile(file.toString());
        String sealed = seal.seal("mg-the-vllm-key", "mg-chat-gw-0001");
        assertTrue(sealed.startsWith("v1:"), sealed);
        assertFalse(sealed.contains("mg-the-vllm-key"));
        assertNotEquals(sealed, seal.seal("mg-the-vllm-key", "mg-chat-gw-0001"), "a fresh nonce every time");
        assertEquals("mg-the-vllm-key", seal.open(sealed, "mg-chat-gw-0001"));

        assertThrows(IllegalArgumentException.class, () -> seal.open(sealed, "mg-chat-gw-0002"), "another name");
        Path other = dir.resolve("other");
        Files.writeString(other, "another-state-key-of-at-least-32-bytes-9876543210");
        assertThrows(IllegalArgumentException.class, () -> SealedValues.fromFile(other.toString())
                .open(sealed, "mg-chat-gw-0001"), "another key");
        char[] bytes = sealed.toCharArray();
        bytes[10] = bytes[10] == 'A' ? 'B' : 'A';
        assertThrows(IllegalArgumentException.class, () -> seal.open(new String(bytes), "mg-chat-gw-0001"),
                "changed");
        assertThrows(IllegalArgumentException.class, () -> seal.open("mg-plain-key", "mg-chat-gw-0001"), "plain");
    }

    @Test
    void aShortOrMissingKeyFileStopsTheStart(@TempDir Path dir) throws Exception {
        Path shortKey = dir.resolve("short");
        Files.writeString(shortKey, "too-short");
        InvalidConfigurationException tooShort = assertThrows(InvalidConfigurationException.class,
                () -> SealedValues.fromFile(shortKey.toString()));
        assertTrue(tooShort.getMessage().contains("at least 32"), tooShort.getMessage());
        assertFalse(tooShort.getMessage().contains("too-short"), "never the key");
        assertThrows(InvalidConfigurationException.class, () -> SealedValues.fromFile(dir.resolve("none").toString()));
    }
}

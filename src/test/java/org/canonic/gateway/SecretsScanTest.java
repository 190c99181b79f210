package org.canonic.gateway;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No credential is written in the shipped code, deployment files or README: the contract says every credential and
 * endpoint comes from the environment, and this scan is how we prove it on every build.
 */
class SecretsScanTest {

    /** Credential shapes: provider key prefixes, bearer tokens, private keys, and long literals assigned to secrets. */
    static final List<Pattern> PATTERNS = List.of(
            Pattern.compile("\\bsk-[A-Za-z0-9_-]{16,}"),
            Pattern.compile("\\brpa_[A-Za-z0-9]{16,}"),
            Pattern.compile("\\bhf_[A-Za-z0-9]{30,}"),
            Pattern.compile("\\bgh[pousr]_[A-Za-z0-9]{30,}"),
            Pattern.compile("\\bAKIA[0-9A-Z]{16}\\b"),
            Pattern.compile("(?i)\\bbearer\\s+[A-Za-z0-9._~+/=-]{20,}"),
            Pattern.compile("-----BEGIN [A-Z ]*PRIVATE KEY-----"),
            Pattern.compile("(?i)(api[_-]?key|secret|password|token)[\"']?\\s*[=:]\\s*[\"']?[A-Za-z0-9/+_.-]{24,}"));

    static List<String> scan(List<Path> roots) throws IOException {
        List<String> hits = new ArrayList<>();
        for (Path root : roots) {
            if (!Files.exists(root)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
                    String[] lines = text.split("\n", -1);
                    for (int i = 0; i < lines.length; i++) {
                        for (Pattern pattern : PATTERNS) {
                            if (pattern.matcher(lines[i]).find()) {
                                hits.add(file + ":" + (i + 1) + " matches " + pattern.pattern());
                            }
                        }
                    }
                }
            }
        }
        return hits;
    }

    @Test
    void theShippedSourcesDeploymentFilesAndReadmeHoldNoCredential() throws IOException {
        assertEquals(List.of(), scan(List.of(Path.of("src/main"), Path.of("deploy"), Path.of("README.md"))));
    }

    @Test
    void theScanFindsAPlantedCredential(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("leak.properties"), "gateway.backends.runpod.api-key=rpa_"
                + "ABCDEFGHIJKLMNOPQRSTUVWX0123\n");
        Files.writeString(dir.resolve("Client.java"), "String auth = \"Bearer " + "eyJhbGciOiJIUzI1NiJ9abcdefghij\";\n");
        Files.writeString(dir.resolve("id_rsa"), "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n");
        List<String> hits = scan(List.of(dir));
        assertTrue(hits.size() >= 3, hits.toString());
    }
}

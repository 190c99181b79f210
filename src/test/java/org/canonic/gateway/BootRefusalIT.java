package org.canonic.gateway;

import org.canonic.gateway.testing.PackagedGateway;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar, started the way a deployment starts it (production profile, only environment variables), refuses
 * to run on configuration it cannot trust, and says why in one message listing every problem.
 */
class BootRefusalIT {

    private static Result run(Map<String, String> env) throws Exception {
        Process process = PackagedGateway.launch(env);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Result(-1, "still running after 60 s");
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    record Result(int exit, String output) {
    }

    @Test
    void withoutClientKeysTheProductionProfileRefusesToStart() throws Exception {
        assertTrue(Files.exists(PackagedGateway.JAR), "package the gateway first");
        Result result = run(Map.of("VASTAI_BASE_URL", "http://127.0.0.1:9/v1"));
        assertNotEquals(0, result.exit(), result.output());
        assertTrue(result.output().contains("GATEWAY_AUTH=none"), result.output());
    }

    @Test
    void everyProblemIsListedInOneMessage() throws Exception {
        Result result = run(Map.of(
                "VASTAI_BASE_URL", "ftp://10.0.0.5:8000/v1",
                "RUNPOD_BASE_URL", "https://api.runpod.ai/v2/abc/openai/v1",
                "RUNPOD_TIMEOUT_MS", "-5",
                "FALLBACK_PROVIDER", "nowhere",
                "TOKENS_MIN", "9000",
                "TOKENS_MAX", "4000",
                "GATEWAY_API_KEYS", "ci:" + "k".repeat(24)));
        assertNotEquals(0, result.exit(), result.output());
        List<String> expected = List.of("vastai.base-url is malformed: it must start with http", "first-token must be positive",
                "fallback backend 'nowhere'", "TOKENS_MIN (9000) is larger than TOKENS_MAX (4000)");
        for (String problem : expected) {
            assertTrue(result.output().contains(problem), "missing '" + problem + "' in:\n" + result.output());
        }
        assertTrue(result.output().contains("refuses to start; fix these configuration problems"), result.output());
    }

    @Test
    void aLedgerPathThatCannotBeWrittenStopsTheStart() throws Exception {
        Path notADirectory = Files.createTempFile("ledger-parent", ".txt");
        Result result = run(Map.of(
                "VASTAI_BASE_URL", "http://127.0.0.1:9/v1",
                "GATEWAY_API_KEYS", "ci:" + "k".repeat(24),
                "GATEWAY_LEDGER_PATH", notADirectory.resolve("ledger.jsonl").toString()));
        assertNotEquals(0, result.exit(), result.output());
        assertTrue(result.output().contains("GATEWAY_LEDGER_PATH") && result.output().contains("not writable"),
                result.output());
    }

    /**
     * The problems come first and alone: the block starts within the first lines of output, no stack frame precedes
     * it, and each problem has a line of its own.
     */
    @Test
    void theProblemsArePrintedAsOneReadableBlockNotInAStackTrace() throws Exception {
        Result result = run(Map.of(
                "VASTAI_BASE_URL", "http//10.0.0.5:8000/v1",
                "TOKENS_MIN", "9000",
                "TOKENS_MAX", "4000",
                "GATEWAY_API_KEYS", "ci:" + "k".repeat(24)));
        assertNotEquals(0, result.exit(), result.output());
        List<String> lines = result.output().lines().toList();
        int headline = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("magic-gateway refuses to start; fix these configuration problems:")) {
                headline = i;
                break;
            }
        }
        assertTrue(headline >= 0 && headline < 10, "the block must start within the first lines:\n" + result.output());
        for (String line : lines.subList(0, headline)) {
            assertFalse(line.strip().startsWith("at "), "a stack frame before the problems:\n" + result.output());
        }
        List<String> block = lines.subList(headline + 1, lines.size()).stream().takeWhile(l -> l.startsWith("  - "))
                .toList();
        assertTrue(block.size() >= 3, "one line per problem:\n" + result.output());
        assertTrue(block.stream().anyMatch(l -> l.contains("vastai.base-url is malformed")), result.output());
        assertTrue(block.stream().anyMatch(l -> l.contains("TOKENS_MIN (9000) is larger than TOKENS_MAX (4000)")));
        assertFalse(result.output().contains("at org.canonic"), "no stack trace at all:\n" + result.output());
    }
}

package org.canonic.gateway.compute;

import org.canonic.gateway.config.ComputeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Account keys and vLLM keys never stand in for each other. */
class AccountKeysTest {

    record Provider(Optional<String> apiUrl, Optional<String> apiKeyFile, Optional<String> apiKey,
                    Optional<String> dotenvPath) implements ComputeConfig.ProviderConfig {
    }

    static Provider provider(String file, String key, String dotenv) {
        return new Provider(Optional.empty(), Optional.ofNullable(file), Optional.ofNullable(key),
                Optional.ofNullable(dotenv));
    }

    @Test
    void theStaticBackendsKeyIsNeverTheAccountKey() {
        // Only VASTAI_API_KEY / RUNPOD_API_KEY (the static backends' keys) are set: compute stays off.
        Map<String, String> env = Map.of("VASTAI_API_KEY", "vllm-key-of-the-static-backend",
                "RUNPOD_API_KEY", "runpod-serverless-key-123");
        java.util.function.Function<String, String> lookup = env::get;
        assertTrue(new ApiKeys(AccountKeys.VASTAI, Optional.empty(), Optional.empty(), lookup).resolve().isEmpty());
        ApiKeys vast = AccountKeys.keys(AccountKeys.VASTAI, provider(null, null, null), lookup, "VASTAI_API_KEY");
        assertTrue(vast.resolve().isEmpty(), "VASTAI_API_KEY in the environment is not the account key");
        ApiKeys runpod = AccountKeys.keys(AccountKeys.RUNPOD, provider(null, null, null), lookup,
                "RUNPOD_API_KEY");
        assertTrue(runpod.resolve().isEmpty(), "RUNPOD_API_KEY is the static backend's, not the account's");
        assertTrue(vast.describe().contains("VASTAI_ACCOUNT_KEY"), vast.describe());
    }

    @Test
    void theAccountKeyComesFromItsFileItsVariableOrTheAccountsDotenv(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("vast.key");
        Files.writeString(file, "from-the-account-file\n");
        Path dotenv = dir.resolve(".env");
        Files.writeString(dotenv, "VASTAI_API_KEY=from-the-cli-dotenv\n");
        java.util.function.Function<String, String> none = n -> null;
        assertEquals("from-the-account-file", AccountKeys.keys(AccountKeys.VASTAI,
                provider(file.toString(), "from-the-variable", null), none, "VASTAI_API_KEY").resolve().orElseThrow());
        assertEquals("from-the-variable", AccountKeys.keys(AccountKeys.VASTAI,
                provider(null, "from-the-variable", null), none, "VASTAI_API_KEY").resolve().orElseThrow());
        assertEquals("from-the-cli-dotenv", AccountKeys.keys(AccountKeys.VASTAI,
                provider(null, null, dotenv.toString()), none, "VASTAI_API_KEY").resolve().orElseThrow());
    }

    @Test
    void aStartThatWouldSendAnAccountKeyToAVllmHostIsRefused() {
        String account = "vast-account-key-0123456789";
        List<String> problems = AccountKeys.problems(List.of(
                new AccountKeys.StaticBackend("vastai", "http://203.0.113.9:41234/v1", Optional.of(account)),
                new AccountKeys.StaticBackend("other", "http://203.0.113.10:8000/v1", Optional.of("its-own-vllm-key"))),
                Map.of("Vast.ai", Optional.of(account), "RunPod", Optional.empty()));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("backend vastai would send the Vast.ai account key to 203.0.113.9"),
                problems.get(0));
        assertTrue(!problems.get(0).contains(account), "never the key itself");

        // RunPod serverless takes the RunPod key by design: its own host is not a vLLM host of a third party.
        String runpod = "runpod-account-key-0123456";
        assertTrue(AccountKeys.problems(List.of(new AccountKeys.StaticBackend("runpod",
                "https://api.runpod.ai/v2/abc/openai/v1", Optional.of(runpod))),
                Map.of("RunPod", Optional.of(runpod))).isEmpty());
        assertEquals(1, AccountKeys.problems(List.of(new AccountKeys.StaticBackend("pod",
                "http://198.51.100.7:8000/v1", Optional.of(runpod))), Map.of("RunPod", Optional.of(runpod))).size());
    }

    @Test
    void oldNamesAreWarnedAbout() {
        assertEquals(1, AccountKeys.warnings(Map.of("VASTAI_API_KEY", "x")::get).size());
        assertEquals(1, AccountKeys.warnings(Map.of("RUNPOD_API_KEY", "x")::get).size());
        assertTrue(AccountKeys.warnings(Map.of("RUNPOD_API_KEY", "x", "RUNPOD_ACCOUNT_KEY", "y")::get).isEmpty());
        assertTrue(AccountKeys.warnings(Map.<String, String>of()::get).isEmpty());
    }
}

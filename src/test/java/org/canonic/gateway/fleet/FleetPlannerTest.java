package org.canonic.gateway.fleet;

import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FleetPlannerTest {

    private static FleetSnapshot build(ConfigFixture fixture) {
        // Only the plan matters here: no backend is probed (probes need the running application).
        for (String backend : List.of("runpod", "vastai", "vastai-kilocode", "a", "b", "sim")) {
            fixture.and("gateway.backends." + backend + ".probe", "none");
        }
        Fleet fleet = LiveBackends.fleet(fixture.build());
        fleet.close();
        return fleet.snapshot();
    }

    private static List<String> names(List<LiveBackend> backends) {
        return backends.stream().map(LiveBackend::name).toList();
    }

    private static ConfigFixture legacyDeployment() {
        // What the packaged application.properties maps RUNPOD_* / VASTAI_* onto.
        return ConfigFixture.with(
                "gateway.routes.chat.models", "qwen",
                "gateway.routes.chat.backends", "runpod,vastai",
                "gateway.routes.kilocode.models", "kilocode",
                "gateway.routes.kilocode.backends", "vastai-kilocode",
                "gateway.backends.runpod.model", "Qwen/Qwen2.5-7B-Instruct",
                "gateway.backends.vastai.model", "Qwen/Qwen2.5-7B-Instruct",
                "gateway.backends.vastai-kilocode.model", "deepseek-ai/deepseek-coder-6.7b-instruct");
    }

    @Test
    void backendsWithoutABaseUrlAreAbsentAndRoutesKeepTheRest() {
        FleetSnapshot topology = build(legacyDeployment()
                .and("gateway.backends.vastai.base-url", "http://127.0.0.5:8000/v1")
                .and("gateway.backends.vastai.tries", "3")
                .and("gateway.backends.vastai.retry-delay", "250")
                .and("gateway.backends.vastai.clocks.first-token", "30000"));

        assertEquals(2, topology.routes().size(), "kilocode is listed although no backend of it has a URL");
        assertEquals("WAITING", topology.routeStates().get("kilocode"));
        Route chat = topology.routeFor("qwen").orElseThrow();
        assertEquals(List.of("vastai"), names(chat.backends()));
        assertEquals(chat, topology.routeFor("Qwen/Qwen2.5-7B-Instruct").orElseThrow());
        Backend vastai = chat.backends().get(0).spec();
        assertEquals(3, vastai.tries());
        assertEquals(250, vastai.retryDelayMs(), "bare numbers are milliseconds, as *_MS variables give them");
        assertEquals(30_000, vastai.clocks().firstTokenMs());
        assertEquals("/v1/chat/completions", vastai.endpoint().apiPath("/chat/completions"));
    }

    @Test
    void theFallbackIsAppendedToEveryRoutesCandidatesOnce() {
        FleetSnapshot topology = build(legacyDeployment()
                .and("gateway.backends.runpod.base-url", "https://127.0.0.7/v2/abc123/openai/v1")
                .and("gateway.backends.vastai.base-url", "http://127.0.0.5:8000")
                .and("gateway.backends.vastai-kilocode.base-url", "http://127.0.0.6:8000/v1")
                .and("gateway.fallback", "vastai"));

        Route chat = topology.routeFor("qwen").orElseThrow();
        assertEquals(List.of("runpod", "vastai"), names(topology.candidates(chat)));
        Route kilocode = topology.routeFor("kilocode").orElseThrow();
        assertEquals(List.of("vastai-kilocode", "vastai"),
                names(topology.candidates(kilocode)));
    }

    @Test
    void aBackendKeyFromAFileIsItsTrimmedContentAndBothOrAnUnreadableFileStopStartUp() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("key-file");
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("runpod-key"), " sk-from-file-42 \n");
        FleetSnapshot topology = build(legacyDeployment()
                .and("gateway.backends.runpod.base-url", "http://127.0.0.5:8000/v1")
                .and("gateway.backends.runpod.api-key-file", file.toString()));
        assertEquals("Bearer sk-from-file-42", topology.routeFor("qwen").orElseThrow().backends().get(0).spec()
                .authorization().orElseThrow());

        InvalidConfigurationException error = assertThrows(InvalidConfigurationException.class, () -> build(
                legacyDeployment()
                        .and("gateway.backends.runpod.base-url", "http://127.0.0.5:8000/v1")
                        .and("gateway.backends.runpod.api-key", "sk-literal-key")
                        .and("gateway.backends.runpod.api-key-file", file.toString())
                        .and("gateway.backends.vastai.base-url", "http://127.0.0.6:8000/v1")
                        .and("gateway.backends.vastai.api-key-file", dir.resolve("missing").toString())));
        List<String> problems = error.problems();
        assertEquals(2, problems.size(), String.join("\n", problems));
        assertTrue(problems.stream().anyMatch(p -> p.contains("runpod.api-key and .api-key-file are both set")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("vastai.api-key-file") && p.contains("cannot be read")));
        assertFalse(error.getMessage().contains("sk-literal-key") || error.getMessage().contains("sk-from-file"));
    }

    @Test
    void bothKeySettingsOfABackendAreNamedByItsOwnVariables() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.writeString(java.nio.file.Files.createTempFile("vast", ".key"),
                "sk-vast-file-key\n");
        InvalidConfigurationException error = assertThrows(InvalidConfigurationException.class, () -> build(
                legacyDeployment()
                        .and("gateway.backends.vastai.base-url", "http://127.0.0.6:8000/v1")
                        .and("gateway.backends.vastai.api-key", "sk-vast-literal")
                        .and("gateway.backends.vastai.api-key-file", file.toString())
                        .and("gateway.backends.my-gpu.base-url", "http://127.0.0.7:8000/v1")
                        .and("gateway.backends.my-gpu.api-key", "sk-gpu-literal")
                        .and("gateway.backends.my-gpu.api-key-file", file.toString())));
        String vast = error.problems().stream().filter(p -> p.startsWith("gateway.backends.vastai.")).findFirst()
                .orElseThrow();
        assertTrue(vast.contains("VASTAI_VLLM_API_KEY and VASTAI_VLLM_API_KEY_FILE") && !vast.contains("RUNPOD"), vast);
        String mine = error.problems().stream().filter(p -> p.startsWith("gateway.backends.my-gpu.")).findFirst()
                .orElseThrow();
        assertTrue(mine.contains("GATEWAY_BACKENDS_MY_GPU_API_KEY and GATEWAY_BACKENDS_MY_GPU_API_KEY_FILE"), mine);
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        InvalidConfigurationException error = assertThrows(InvalidConfigurationException.class, () -> build(
                legacyDeployment()
                        .and("gateway.backends.runpod.base-url", "ftp://nope")
                        .and("gateway.backends.vastai.base-url", "http://user:secret@127.0.0.5:8000/v1")
                        .and("gateway.backends.vastai-kilocode.base-url", "http://127.0.0.6:8000/v1")
                        .and("gateway.backends.vastai-kilocode.tries", "0")
                        .and("gateway.backends.vastai-kilocode.clocks.idle", "0")
                        .and("gateway.routes.extra.backends", "typo-backend")
                        .and("gateway.fallback", "nowhere")));

        List<String> problems = error.problems();
        assertEquals(6, problems.size(), String.join("\n", problems));
        assertTrue(problems.stream().anyMatch(p -> p.contains("runpod.base-url is malformed: it must start with http")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("vastai.base-url is malformed: it must not carry user info")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("tries must be between 1 and 10")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("clocks.idle must be positive")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("'typo-backend'")));
        assertTrue(problems.stream().anyMatch(p -> p.contains("fallback backend 'nowhere'")));
        assertFalse(error.getMessage().contains("secret"), "a credential in a URL must not be echoed");
    }

    @Test
    void withoutAnyBackendEveryRouteIsListedAndWaits() {
        FleetSnapshot topology = build(legacyDeployment());
        assertEquals(List.of("chat", "kilocode"), topology.routes().stream().map(Route::name).toList());
        assertEquals(java.util.Map.of("chat", "WAITING", "kilocode", "WAITING"), topology.routeStates());
        assertEquals(List.of("qwen", "kilocode"), topology.modelNames(), "aliases stay requestable");
        assertTrue(topology.candidates(topology.routeFor("qwen").orElseThrow()).isEmpty());
    }

    @Test
    void aRouteWithoutOwnBackendsIsServedByTheFallback() {
        FleetSnapshot topology = build(legacyDeployment()
                .and("gateway.backends.vastai.base-url", "http://127.0.0.5:8000/v1")
                .and("gateway.fallback", "vastai"));
        Route kilocode = topology.routeFor("kilocode").orElseThrow();
        assertEquals(List.of("vastai"), names(topology.candidates(kilocode)));
    }

    @Test
    void anAliasClaimedByTwoRoutesIsAnErrorButASharedBackendIdIsJustNotAutoMapped() {
        ConfigFixture shared = ConfigFixture.with(
                "gateway.backends.a.base-url", "http://127.0.0.1:9/v1", "gateway.backends.a.model", "m-a",
                "gateway.backends.b.base-url", "http://127.0.0.1:9/v1", "gateway.backends.b.model", "m-b",
                "gateway.routes.one.models", "one", "gateway.routes.one.backends", "a,b",
                "gateway.routes.two.models", "two", "gateway.routes.two.backends", "b");
        FleetSnapshot topology = build(shared);
        assertTrue(topology.routeFor("m-a").isPresent(), "only route one serves m-a");
        assertTrue(topology.routeFor("m-b").isEmpty(), "m-b is served by two routes: ambiguous");

        assertThrows(InvalidConfigurationException.class, () -> build(shared.and("gateway.routes.two.models", "one")));
    }

    @Test
    void theSimulatorUrlIsRefusedWhenTheSimulatorIsOff() {
        InvalidConfigurationException error = assertThrows(InvalidConfigurationException.class, () -> build(
                ConfigFixture.with("gateway.backends.sim.base-url", "simulator:", "gateway.backends.sim.model", "m",
                        "gateway.routes.r.backends", "sim")));
        assertTrue(error.getMessage().contains("simulator"), error.getMessage());
    }
}

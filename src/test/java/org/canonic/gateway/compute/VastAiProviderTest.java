package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.compute.vastai.VastAiProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Vast.ai client against a fake Vast.ai API on loopback (wire format and quirks). */
class VastAiProviderTest {

    static final String KEY = "vast-test-key-0123456789abcdef";
    static Vertx vertx;
    static FakeVastAi fake;
    final ObjectMapper mapper = new ObjectMapper();
    final Recipe recipe = new Recipes(Map.of()).find("chat").orElseThrow();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        fake = new FakeVastAi(vertx, KEY);
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    @BeforeEach
    void reset() {
        fake.reset();
    }

    VastAiProvider provider(String key, String url, Duration timeout) {
        ApiKeys keys = new ApiKeys("VASTAI_API_KEY", Optional.empty(), Optional.empty(), n -> key);
        return new VastAiProvider(new ProviderHttp("Vast.ai", url, keys, mapper, timeout, 3, Duration.ofSeconds(2)),
                mapper, 3, 50);
    }

    VastAiProvider provider() {
        return provider(KEY, fake.url(), Duration.ofSeconds(5));
    }

    @Test
    void offerSearchSendsTheFiltersAndRanksByPriceReliabilityAndVram() {
        fake.offers.add(FakeVastAi.offer(1, "RTX 4090", 24564, 0.40, 0.99));
        fake.offers.add(FakeVastAi.offer(2, "RTX 3090", 24576, 0.30, 0.97));
        fake.offers.add(FakeVastAi.offer(3, "RTX 3090", 24576, 0.30, 0.995));
        fake.offers.add(FakeVastAi.offer(4, "A6000", 49140, 0.40, 0.99));
        List<Offer> offers = provider().offers(new ComputeProvider.OfferQuery("RTX 3090,RTX_4090", 1, 24.0, 0.6,
                null, null, 64));
        assertEquals(List.of("3", "2", "4", "1"), offers.stream().map(Offer::id).toList());
        JsonNode q = fake.received("POST", "/api/v0/bundles/").get(0).body();
        assertEquals(24000, q.path("gpu_ram").path("gte").asInt(), "gpu_ram is MB: " + q);
        assertEquals("[\"RTX 3090\",\"RTX 4090\"]", q.path("gpu_name").path("in").toString());
        assertEquals(1, q.path("num_gpus").path("eq").asInt());
        assertEquals(0.6, q.path("dph_total").path("lte").asDouble());
        assertEquals(0.95, q.path("reliability2").path("gte").asDouble());
        assertTrue(q.path("verified").path("eq").asBoolean());
        assertFalse(q.path("rented").path("eq").asBoolean());
        assertEquals(1, q.path("direct_port_count").path("gte").asInt());
        assertEquals("[[\"dph_total\",\"asc\"]]", q.path("order").toString());
        assertEquals("on-demand", q.path("type").asText());
        assertEquals(64, q.path("allocated_storage").asInt());
        assertEquals("Bearer " + KEY, fake.received().get(0).authorization());
    }

    @Test
    void createSendsTheRecipeAndReadsTheEndpointDefensively() {
        fake.offers.add(FakeVastAi.offer(11, "RTX 4090", 24564, 0.40, 0.99));
        fake.instancePort = 41234;
        VastAiProvider vast = provider();
        Offer offer = vast.offerForLaunch(recipe, "11");
        String id = vast.create(recipe, offer, "mg-chat-gw-0123abcd", "mg-secret-key");
        JsonNode body = fake.received("PUT", "/api/v0/asks/11/").get(0).body();
        assertEquals("vllm/vllm-openai:v0.7.3", body.path("image").asText());
        assertEquals(64, body.path("disk").asInt());
        assertEquals("args", body.path("runtype").asText());
        assertEquals("mg-chat-gw-0123abcd", body.path("label").asText());
        assertEquals("[\"--model\",\"Qwen/Qwen2.5-7B-Instruct\",\"--max-model-len\",\"16384\",\"--enforce-eager\","
                + "\"--gpu-memory-utilization\",\"0.95\",\"--port\",\"8000\",\"--api-key\",\"mg-secret-key\"]",
                body.path("args").toString());
        assertEquals("1", body.path("env").path("-p 8000:8000").asText());
        assertEquals("0", body.path("env").path("HF_HUB_ENABLE_HF_TRANSFER").asText());
        InstanceInfo info = vast.get(id).orElseThrow();
        assertEquals(InstanceInfo.Status.RUNNING, info.status());
        assertEquals("http://127.0.0.1:41234", info.baseUrl(), "whitespace stripped, HostPort a string");
    }

    @Test
    void listPagesThroughV1AndNeverUsesTheDeadV0List() {
        for (int n = 0; n < 60; n++) {
            fake.addInstance("other-" + n, "running");
        }
        assertEquals(60, provider().list().size());
        assertEquals(3, fake.received("GET", "/api/v1/instances/").size());
        assertTrue(fake.received("GET", "/api/v0/instances/").stream().noneMatch(r -> r.path()
                .equals("/api/v0/instances/")));
    }

    @Test
    void anOddListIsAnErrorNotAnEmptyList() {
        fake.listOverride = "\"\"";
        ComputeException e = assertThrows(ComputeException.class, () -> provider().list());
        assertEquals("provider_bad_answer", e.code());
        fake.listOverride = "{\"instances\":\"none\"}";
        assertThrows(ComputeException.class, () -> provider().list());
    }

    @Test
    void aSuccessThatDidNotApplyIsDetected() {
        String id = fake.addInstance("mg-x", "running").path("id").asText();
        fake.stateChangesApply = false;
        ComputeException e = assertThrows(ComputeException.class, () -> provider().setState(id, false));
        assertEquals("state_not_applied", e.code());
        fake.stateChangesApply = true;
        provider().setState(id, false);
        assertEquals("stopped", fake.instances.get(id).path("actual_status").asText());
    }

    @Test
    void rateLimitedCallsBackOffAndRetry() {
        fake.tooMany.set(2);
        long started = System.nanoTime();
        assertEquals(0, provider().list().size());
        assertEquals(3, fake.received().size());
        assertTrue(System.nanoTime() - started >= 1_500_000_000L, "Retry-After: 1 honoured");
        fake.tooMany.set(5);
        ComputeException e = assertThrows(ComputeException.class, () -> provider().list());
        assertEquals(503, e.status());
        assertEquals("provider_rate_limited", e.code());
    }

    @Test
    void aWrongKeyADownProviderAndAGoneInstanceAreClear() throws Exception {
        ComputeException auth = assertThrows(ComputeException.class,
                () -> provider("wrong-key", fake.url(), Duration.ofSeconds(5)).list());
        assertEquals("provider_auth_failed", auth.code());
        assertFalse(auth.getMessage().contains("wrong-key"));
        int closed;
        try (var socket = new java.net.ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        ComputeException unreachable = assertThrows(ComputeException.class,
                () -> provider(KEY, "http://127.0.0.1:" + closed, Duration.ofSeconds(2)).list());
        assertEquals(503, unreachable.status());
        assertTrue(unreachable.getMessage().contains("Vast.ai could not be reached"), unreachable.getMessage());
        assertTrue(provider().get("999").isEmpty(), "{\"instances\":null} means gone");
        provider().destroy("999"); // no_such_instance counts as destroyed
    }

    @Test
    void onlyTheContractsAnswerMeansGone() {
        fake.offers.add(FakeVastAi.offer(21, "RTX 4090", 24564, 0.40, 0.99));
        VastAiProvider provider = provider();
        String id = provider.create(recipe, provider.offerForLaunch(recipe, "21"), "mg-chat-gw-0000abcd", "k");
        fake.readNotFoundBody = "<html><body>404 Not Found</body></html>";
        ComputeException odd = assertThrows(ComputeException.class, () -> provider.get(id));
        assertEquals("provider_bad_answer", odd.code());
        assertTrue(odd.getMessage().contains("only {\"instances\": null} means gone"), odd.getMessage());
        // A destroy is not confirmed by a broken read either.
        fake.listLagsAfterDestroy.set(0);
        assertThrows(ComputeException.class, () -> provider.destroy(id));
        fake.readNotFoundBody = null;
        assertTrue(provider.get(id).isEmpty(), "the DELETE went through: now {\"instances\":null}");
    }

    @Test
    void aDestroyIsConfirmedByTheListAsWell() {
        fake.offers.add(FakeVastAi.offer(22, "RTX 4090", 24564, 0.40, 0.99));
        VastAiProvider provider = provider();
        String id = provider.create(recipe, provider.offerForLaunch(recipe, "22"), "mg-chat-gw-0000abce", "k");
        fake.listLagsAfterDestroy.set(2); // the list shows it twice more, then not
        provider.destroy(id);
        assertTrue(provider.list().stream().noneMatch(i -> id.equals(i.id())));
        long listReads = fake.received().stream().filter(r -> r.path().equals("/api/v1/instances/")).count();
        assertTrue(listReads >= 3, "confirmed through the list: " + listReads + " list reads");
    }

    @Test
    void aTlsLaunchCarriesTheIdentityAndAnOnstartThatServesItWithVllm() throws Exception {
        fake.offers.add(FakeVastAi.offer(23, "RTX 4090", 24564, 0.40, 0.99));
        VastAiProvider vast = provider();
        InstanceTls.Identity tls = InstanceTls.create("mg-chat-gw-0000tls1", java.time.Instant.now());
        vast.create(recipe, vast.offerForLaunch(recipe, "23"), "mg-chat-gw-0000tls1", "mg-key-it's", tls);
        JsonNode body = fake.received("PUT", "/api/v0/asks/23/").get(0).body();
        assertEquals("ssh", body.path("runtype").asText(), "onstart runs only with Vast's own entrypoint");
        assertEquals(tls.certificatePem(), body.path("env").path("MG_TLS_CERT").asText());
        assertEquals(tls.privateKeyPem(), body.path("env").path("MG_TLS_KEY").asText());
        assertEquals("1", body.path("env").path("-p 8000:8000").asText());
        assertTrue(body.path("args").isMissingNode(), body.toString());

        // Run the onstart script as the machine would (with a stand-in python3 that records its arguments).
        Path dir = Files.createTempDirectory("onstart");
        Path fakePython = dir.resolve("python3");
        Files.writeString(fakePython, "#!/bin/bash\nprintf '%s\\n' \"$@\" > " + dir.resolve("argv")
                + "\nenv > " + dir.resolve("env") + "\n");
        fakePython.toFile().setExecutable(true);
        String script = body.path("onstart").asText().replace("/run/magic-gateway", dir.resolve("tls").toString())
                .replace("/var/log/vllm.log", dir.resolve("vllm.log").toString());
        ProcessBuilder run = new ProcessBuilder("bash", "-c", script);
        run.environment().put("PATH", dir + ":" + System.getenv("PATH"));
        run.environment().put("MG_TLS_CERT", tls.certificatePem());
        run.environment().put("MG_TLS_KEY", tls.privateKeyPem());
        Process process = run.start();
        assertEquals(0, process.waitFor(), new String(process.getErrorStream().readAllBytes()));
        Path argv = dir.resolve("argv");
        for (int i = 0; i < 50 && !Files.exists(argv); i++) {
            Thread.sleep(50); // vLLM is started in the background
        }
        Thread.sleep(100);
        List<String> args = Files.readAllLines(argv);
        assertEquals(List.of("-m", "vllm.entrypoints.openai.api_server", "--model", "Qwen/Qwen2.5-7B-Instruct"),
                args.subList(0, 4));
        assertTrue(args.contains("mg-key-it's"), "quoted intact: " + args);
        int cert = args.indexOf("--ssl-certfile");
        assertEquals(tls.certificatePem().strip(), Files.readString(Path.of(args.get(cert + 1))).strip());
        int key = args.indexOf("--ssl-keyfile");
        assertEquals(tls.privateKeyPem().strip(), Files.readString(Path.of(args.get(key + 1))).strip());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(Path.of(args.get(key + 1)))));
        assertFalse(Files.readString(dir.resolve("env")).contains("MG_TLS_KEY"), "the key leaves the environment");
    }

    @Test
    void keysResolveFromFileThenEnvironmentThenDotenv() throws Exception {
        Path dir = Files.createTempDirectory("keys");
        Path file = dir.resolve("vast.key");
        Path dotenv = dir.resolve(".env");
        Files.writeString(dotenv, "# comment\nOTHER=x\nexport VASTAI_API_KEY=\"from-dotenv\"\n");
        assertEquals("from-dotenv", new ApiKeys("VASTAI_API_KEY", Optional.of(file.toString()),
                Optional.of(dotenv.toString()), n -> null).resolve().orElseThrow());
        assertEquals("from-env", new ApiKeys("VASTAI_API_KEY", Optional.of(file.toString()),
                Optional.of(dotenv.toString()), n -> "from-env").resolve().orElseThrow());
        Files.writeString(file, "from-file\n");
        assertEquals("from-file", new ApiKeys("VASTAI_API_KEY", Optional.of(file.toString()),
                Optional.of(dotenv.toString()), n -> "from-env").resolve().orElseThrow());
        ApiKeys none = new ApiKeys("VASTAI_API_KEY", Optional.empty(), Optional.empty(), n -> null);
        ComputeException e = assertThrows(ComputeException.class, () -> new VastAiProvider(new ProviderHttp(
                "Vast.ai", fake.url(), none, mapper, Duration.ofSeconds(2), 1, Duration.ofSeconds(1)), mapper, 1, 1)
                .list());
        assertEquals("provider_not_configured", e.code());
    }
}

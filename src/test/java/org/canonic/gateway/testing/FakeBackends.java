package org.canonic.gateway.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.vertx.core.Vertx;
import org.canonic.gateway.health.HealthProfile;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts the fake backends on free loopback ports and hands the gateway a topology that uses them:
 * <ul>
 *   <li>route {@code main} (model {@code main-model}): {@code alpha} (2 tries, short clocks), then {@code beta};</li>
 *   <li>route {@code refused} ({@code refused-model}): {@code dead} (a port nobody listens on, 2 tries), then
 *       {@code beta};</li>
 *   <li>route {@code solo} ({@code solo-model}): {@code alpha} alone;</li>
 *   <li>global fallback {@code omega}.</li>
 * </ul>
 * The same resource serves the packaged-jar integration tests, where the gateway runs in another process.
 */
public class FakeBackends implements QuarkusTestResourceLifecycleManager {

    public static final String ALPHA_MODEL = "fake/alpha-model";
    public static final String BETA_MODEL = "fake/beta-model";
    public static final String OMEGA_MODEL = "fake/omega-model";
    public static final String FIT_MODEL = "fake/fit-model";
    public static final String ALPHA_KEY = "sk-alpha-upstream-secret-0123456789";
    public static final String ADMIN_TOKEN = "admin-test-token-5f1c-at-least-32-characters";
    public static final String CI_KEY_ID = "ci";
    public static final String CI_KEY = "gw-test-key-ci-0a1b2c3d4e5f";
    public static final String SOLO_KEY_ID = "solo-only";
    public static final String SOLO_KEY = "gw-test-key-solo-9f8e7d6c5b4a";
    /** The key the auth profile's key file holds at start (the file is re-read while the gateway runs). */
    public static final String FILE_KEY_ID = "from-file";
    public static final String FILE_KEY = "gw-test-key-file-7c6b5a4f3e2d";
    /** The upstream key omega's secret file holds. */
    public static final String OMEGA_KEY = "sk-omega-from-file-5e6f7a8b";

    /** Every backend the tests configure. */
    public static final java.util.List<String> BACKEND_NAMES = java.util.List.of("alpha", "beta", "dead", "omega",
            "small", "medium", "large");

    /** Keep-alive interval used by the tests: short, so keep-alive behaviour shows within a test. */
    public static final long KEEP_ALIVE_MS = 400;
    public static final long ALPHA_FIRST_TOKEN_MS = 1500;
    public static final long ALPHA_IDLE_MS = 800;
    public static final long ALPHA_TOTAL_MS = 4000;

    private static Vertx vertx;
    private static java.nio.file.Path ledger;
    public static final String WEBHOOK_SECRET = "whsec-test-0f3c9a7e5b1d4c2a";
    private static org.canonic.gateway.coordination.WebhookReceiver webhooks;
    private static FakeVllm alpha;
    private static FakeVllm beta;
    private static FakeVllm omega;
    private static FakeVllm small;
    private static FakeVllm medium;
    private static FakeVllm large;
    /** The routing profile's replicas of one model (route {@code spread}). */
    private static java.util.List<FakeVllm> replicas;
    public static final String SPREAD_MODEL = "fake/spread-model";
    public static final String VASTAI_KEY = "vast-fake-provider-key-7a1c93e0";
    public static final String RUNPOD_KEY = "runpod-fake-provider-key-5b2d84f1";
    /** The model the compute tests' recipe {@code main} serves. */
    public static final String COMPUTE_MODEL = "fake/compute-model";
    private static org.canonic.gateway.compute.FakeVastAi vastai;
    private static org.canonic.gateway.compute.FakeRunPod runpod;

    /** The fake Vast.ai API the gateway's compute provider talks to. */
    public static org.canonic.gateway.compute.FakeVastAi vastai() {
        return vastai;
    }

    /** The fake RunPod API. */
    public static org.canonic.gateway.compute.FakeRunPod runpod() {
        return runpod;
    }

    /** The auth profile's client key file ({@code GATEWAY_API_KEYS_FILE}). */
    public static java.nio.file.Path keysFile() {
        return ledger.getParent().resolve("client-keys.txt");
    }

    /** The ledger file the gateway under test writes. */
    public static java.nio.file.Path ledger() {
        return ledger;
    }

    /** The usage profile's ledger file. */
    public static java.nio.file.Path usageLedger() {
        return ledger.getParent().resolve("usage-ledger").resolve("ledger.jsonl");
    }

    /** The directory key files named through the admin API must be in ({@code gateway.secrets.dir}). */
    public static java.nio.file.Path secretsDir() {
        return ledger.getParent().resolve("secrets");
    }

    /** The directory of the hostile profile's ledger (a tiny rotation size: many files). */
    public static java.nio.file.Path hostileLedgerDir() {
        return ledger.getParent().resolve("hostile");
    }

    public static FakeVllm alpha() {
        return alpha;
    }

    public static FakeVllm beta() {
        return beta;
    }

    public static FakeVllm omega() {
        return omega;
    }

    /** The window-fit fakes: 8K, 16K and 64K context windows, in route {@code fit}'s order. */
    public static FakeVllm small() {
        return small;
    }

    public static FakeVllm medium() {
        return medium;
    }

    public static FakeVllm large() {
        return large;
    }

    public static java.util.List<FakeVllm> all() {
        java.util.List<FakeVllm> all = new java.util.ArrayList<>(java.util.List.of(alpha, beta, omega, small, medium,
                large));
        all.addAll(replicas);
        return all;
    }

    /** Replica {@code n} (1-3) of route {@code spread} (the routing profile's backends {@code r1}..{@code r3}). */
    public static FakeVllm replica(int n) {
        return replicas.get(n - 1);
    }

    /** The webhook receiver every event of the gateway under test goes to (signed with {@link #WEBHOOK_SECRET}). */
    public static org.canonic.gateway.coordination.WebhookReceiver webhooks() {
        return webhooks;
    }

    /** Starts one more fake on a free loopback port (a backend a test registers); the test closes it. */
    public static FakeVllm extra(String model) {
        return FakeVllm.start(vertx, model);
    }

    /** The same, serving TLS with this identity. */
    public static FakeVllm extraTls(String model, String certificatePem, String keyPem) {
        return FakeVllm.startTls(vertx, model, certificatePem, keyPem);
    }

    /** A fake serving TLS with this identity on {@code port}, listening soon (not waited for). */
    public static FakeVllm extraTlsLater(String model, String certificatePem, String keyPem, int port) {
        return FakeVllm.startTlsLater(vertx, model, certificatePem, keyPem, port);
    }

    /** Resets every fake: empty scripts, no recorded requests. */
    public static void resetAll() {
        all().forEach(FakeVllm::reset);
    }

    @Override
    public Map<String, String> start() {
        vertx = Vertx.vertx();
        alpha = FakeVllm.start(vertx, ALPHA_MODEL);
        beta = FakeVllm.start(vertx, BETA_MODEL);
        omega = FakeVllm.start(vertx, OMEGA_MODEL);
        small = FakeVllm.start(vertx, FIT_MODEL, 8192);
        medium = FakeVllm.start(vertx, FIT_MODEL, 16384);
        large = FakeVllm.start(vertx, FIT_MODEL, 65536);
        replicas = java.util.List.of(FakeVllm.start(vertx, SPREAD_MODEL, 65536),
                FakeVllm.start(vertx, SPREAD_MODEL, 65536), FakeVllm.start(vertx, SPREAD_MODEL, 65536));
        webhooks = org.canonic.gateway.coordination.WebhookReceiver.start(vertx,
                org.canonic.gateway.coordination.WebhookReceiver.Mode.OK);

        Map<String, String> config = new HashMap<>();
        try {
            ledger = java.nio.file.Files.createTempDirectory("gateway-ledger").resolve("ledger.jsonl");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        config.put("gateway.telemetry.ledger.path", ledger.toString());
        try {
            java.nio.file.Files.createDirectories(secretsDir());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        config.put("gateway.secrets.dir", secretsDir().toString());
        // The fake backends all listen on loopback; the admin API refuses such addresses unless allowed.
        config.put("gateway.admin.allowed-networks", "127.0.0.0/8");
        config.put("gateway.webhooks.urls", webhooks.url().toString());
        config.put("gateway.webhooks.secret", WEBHOOK_SECRET);
        // The blocked-ledger profile writes to a FIFO nobody reads: opening it blocks the ledger writer for good.
        config.put("%blocked.gateway.telemetry.ledger.path", blockedSink(ledger.getParent()).toString());
        config.put("%blocked.gateway.telemetry.ledger.queue-size", "4");
        config.put("gateway.keep-alive-interval", KEEP_ALIVE_MS + "ms");
        config.put("gateway.defaults.retry-delay", "10ms");
        config.put("gateway.defaults.clocks.connect", "1s");
        config.put("gateway.defaults.clocks.first-token", "3s");
        config.put("gateway.defaults.clocks.idle", "2s");
        config.put("gateway.defaults.clocks.total", "20s");
        config.put("gateway.health.interval", "300ms");
        config.put("gateway.health.timeout", "1s");
        // Behaviour tests provoke many backend faults on purpose; only the breaker tests (their own profile) trip it.
        config.put("gateway.breaker.request-volume-threshold", "1000");
        config.put("gateway.admin-token", ADMIN_TOKEN);
        // Readable test output: no per-request lines (ledger, request log, failed attempts provoked on purpose).
        // Tests that check what those lines say open a LogCapture, which turns them back on meanwhile.
        config.put("quarkus.log.category.\"gateway.ledger\".level", "WARN");
        config.put("quarkus.log.category.\"org.canonic.gateway.api\".level", "INFO");
        config.put("quarkus.log.category.\"org.canonic.gateway.routing\".level", "ERROR");
        // Behaviour tests run without client keys; the auth tests' profile turns them on.
        config.put("gateway.auth.mode", "none");
        config.put("%auth.gateway.auth.mode", "keys");
        config.put("%auth.gateway.auth.keys", CI_KEY_ID + ":" + CI_KEY + "," + SOLO_KEY_ID + ":" + SOLO_KEY + ":solo");
        config.put("%auth.gateway.auth.keys-file", keysFile().toString());
        config.put("%auth.gateway.auth.reload-interval", "300ms");
        try {
            java.nio.file.Files.writeString(keysFile(), "# the auth profile's key file\n" + FILE_KEY_ID + ":" + FILE_KEY
                    + "\n");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }

        // The tenants' profile (see TenantsProfile).
        org.canonic.gateway.policy.TenantsProfile.settings().forEach((key, value) -> config.put("%tenants." + key, value));

        // The usage profile (see UsageProfile): a ledger of its own, so its usage sums can be checked against it.
        org.canonic.gateway.usage.UsageProfile.settings().forEach((key, value) -> config.put("%usage." + key, value));
        config.put("%usage.gateway.telemetry.ledger.path", usageLedger().toString());

        // The non-stream bound's profile (see NonStreamDeadlineProfile): a sensitive breaker, two client keys.
        org.canonic.gateway.routing.NonStreamDeadlineProfile.settings().forEach((key, value) ->
                config.put("%nonstream." + key, value));

        // The hostile-load profile (see HostileProfile): a small memory budget, short connection clocks, a tiny
        // ledger rotation size.
        config.put("%hostile.gateway.limits.body-budget", HostileProfile.BODY_BUDGET);
        config.put("%hostile.gateway.limits.max-upstream-body-size", "4M");
        config.put("%hostile.gateway.limits.body-read-timeout", HostileProfile.BODY_TIMEOUT_MS + "ms");
        config.put("%hostile.gateway.connections.header-timeout", HostileProfile.HEADER_TIMEOUT_MS + "ms");
        config.put("%hostile.gateway.connections.idle-timeout", HostileProfile.IDLE_TIMEOUT_MS + "ms");
        config.put("%hostile.gateway.connections.max-per-address", Integer.toString(HostileProfile.MAX_PER_ADDRESS));
        config.put("%hostile.gateway.defaults.clocks.first-token", "10s");
        config.put("%hostile.gateway.defaults.clocks.idle", "5s");
        config.put("%hostile.gateway.telemetry.ledger.path", hostileLedgerDir().resolve("ledger.jsonl").toString());
        config.put("%hostile.gateway.telemetry.ledger.rotate-size", "2K");

        // The health tests' profile (see HealthProfile).
        config.put("%health.gateway.health.interval", "100ms");
        config.put("%health.gateway.health.timeout", "500ms");
        config.put("%health.gateway.health.failures-to-down", Integer.toString(HealthProfile.FAILURES_TO_DOWN));
        config.put("%health.gateway.health.successes-to-up", Integer.toString(HealthProfile.SUCCESSES_TO_UP));
        config.put("%health.gateway.breaker.request-volume-threshold", "4");
        config.put("%health.gateway.breaker.failure-ratio", "0.5");
        config.put("%health.gateway.breaker.delay", HealthProfile.BREAKER_DELAY_MS + "ms");
        config.put("%health.gateway.defaults.max-concurrency", "1");
        config.put("%health.gateway.defaults.concurrency-wait", "100ms");

        // The schedule profile (see ScheduleProfile): a short tick, a small schedule, a state directory of its own.
        org.canonic.gateway.ops.ScheduleProfile.settings().forEach((key, value) -> config.put("%schedule." + key,
                value));
        config.put("%schedule.gateway.state.dir", ledger.getParent().resolve("schedule-state").toString());

        // The routing profile (see RoutingProfile): three replicas of one model on route spread, read often.
        for (int n = 1; n <= 3; n++) {
            config.put("%routing.gateway.backends.r" + n + ".base-url", replicas.get(n - 1).baseUrl());
            config.put("%routing.gateway.backends.r" + n + ".model", SPREAD_MODEL);
            config.put("%routing.gateway.backends.r" + n + ".tries", "1");
            config.put("%routing.gateway.backends.r" + n + ".max-concurrency", "1");
        }
        // spread: hedging with a generous budget; budget: hedging rationed; steady: no hedging (the clock tests).
        for (String route : java.util.List.of("spread", "budget", "steady")) {
            config.put("%routing.gateway.routes." + route + ".models", route + "-model");
            config.put("%routing.gateway.routes." + route + ".backends", "r1,r2,r3");
        }
        org.canonic.gateway.routing.RoutingProfile.settings().forEach((key, value) -> config.put("%routing." + key,
                value));

        config.put("gateway.backends.alpha.base-url", alpha.baseUrl());
        config.put("gateway.backends.alpha.model", ALPHA_MODEL);
        config.put("gateway.backends.alpha.api-key", ALPHA_KEY);
        config.put("gateway.backends.alpha.tries", "2");
        config.put("gateway.backends.alpha.clocks.first-token", Long.toString(ALPHA_FIRST_TOKEN_MS));
        config.put("gateway.backends.alpha.clocks.idle", Long.toString(ALPHA_IDLE_MS));
        config.put("gateway.backends.alpha.clocks.total", Long.toString(ALPHA_TOTAL_MS));

        // Given without /v1 on purpose: the gateway must add it.
        config.put("gateway.backends.beta.base-url", "http://127.0.0.1:" + beta.port());
        config.put("gateway.backends.beta.model", BETA_MODEL);
        config.put("gateway.backends.beta.tries", "1");

        config.put("gateway.backends.dead.base-url", "http://127.0.0.1:" + closedPort() + "/v1");
        config.put("gateway.backends.dead.model", BETA_MODEL);
        config.put("gateway.backends.dead.tries", "2");
        // Not probed: the fallback tests need it tried (and refused) by real requests.
        config.put("gateway.backends.dead.probe", "none");

        config.put("gateway.backends.omega.base-url", omega.baseUrl());
        config.put("gateway.backends.omega.model", OMEGA_MODEL);
        config.put("gateway.backends.omega.tries", "1");
        // Omega's key comes from a secret file (padded with whitespace, as editors and `echo` leave it).
        config.put("gateway.backends.omega.api-key-file", secretFile(ledger.getParent(), "  " + OMEGA_KEY + "\n")
                .toString());

        // Route "fit": three windows, smallest first, so the window fit has to choose.
        for (var fit : java.util.Map.of("small", small, "medium", medium, "large", large).entrySet()) {
            config.put("gateway.backends." + fit.getKey() + ".base-url", fit.getValue().baseUrl());
            config.put("gateway.backends." + fit.getKey() + ".model", FIT_MODEL);
            config.put("gateway.backends." + fit.getKey() + ".tries", "1");
        }
        config.put("gateway.routes.fit.models", "fit-model");
        config.put("gateway.routes.fit.backends", "small,medium,large");

        config.put("gateway.routes.main.models", "main-model");
        config.put("gateway.routes.main.backends", "alpha,beta");
        // The behaviour tests on route main script alpha, then beta: the order they were written for is the ordered
        // policy's (before routing policies existed, the only one). They also stall alpha on purpose to watch its
        // clocks, tries and the fallback, where a hedge would answer from beta first. Placement and hedging have tests
        // of their own (RoutingTest, the routing profile); route fit keeps the default policy.
        config.put("gateway.routes.main.policy", "ordered");
        config.put("gateway.routes.main.hedging.enabled", "false");
        config.put("gateway.routes.refused.models", "refused-model");
        config.put("gateway.routes.refused.backends", "dead,beta");
        config.put("gateway.routes.solo.models", "solo-model");
        config.put("gateway.routes.solo.backends", "alpha");
        config.put("gateway.fallback", "omega");
        // Coordination: a fresh state directory (lock.json, audit.jsonl) beside the ledger; no admin token in %noadmin.
        config.put("gateway.state.dir", ledger.getParent().resolve("state").toString());
        config.put("%noadmin.gateway.admin-token", "");
        // The capacity day (CapacityDayProfile): a request nothing serves is refused, not answered by omega.
        config.put("%simday.gateway.fallback", "");
        compute(config, ledger.getParent());
        return config;
    }

    /** Governed compute against fake provider APIs on loopback; recipe {@code main} joins route main first. */
    private static void compute(Map<String, String> config, java.nio.file.Path dir) {
        vastai = new org.canonic.gateway.compute.FakeVastAi(vertx, VASTAI_KEY);
        runpod = new org.canonic.gateway.compute.FakeRunPod(vertx, RUNPOD_KEY);
        try {
            java.nio.file.Path vastKey = dir.resolve("vastai.key");
            java.nio.file.Path runpodKey = dir.resolve("runpod.key");
            java.nio.file.Files.writeString(vastKey, VASTAI_KEY + "\n");
            java.nio.file.Files.writeString(runpodKey, RUNPOD_KEY + "\n");
            config.put("gateway.compute.vastai.api-key-file", vastKey.toString());
            config.put("gateway.compute.runpod.api-key-file", runpodKey.toString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        config.put("gateway.compute.vastai.api-url", vastai.url());
        config.put("gateway.compute.runpod.api-url", runpod.url());
        // The fake's pod ids are FakeVllm ports, so "the proxy" is the fake machine itself, on loopback.
        config.put("gateway.compute.runpod-proxy-url-template", "http://127.0.0.1:{id}");
        // The fake machines of these tests serve plain HTTP; the per-instance TLS is tested on its own (ComputeTlsTest).
        config.put("gateway.compute.instance-tls", "false");
        config.put("gateway.compute.poll-interval", "200ms");
        config.put("gateway.compute.confirm-delay", "100ms");
        config.put("gateway.compute.provider-timeout", "3s");
        config.put("gateway.compute.provider-max-retry-after", "1s");
        // Off: the tests run the reconcile themselves (GET /admin/compute/leaks?refresh=true).
        config.put("gateway.compute.leak-watch-interval", "0");
        // The gateway's own capacity controller never ticks during a test run: tests tick theirs on their clock.
        config.put("gateway.capacity.tick", "10m");
        config.put("gateway.compute.recipes.main.model", COMPUTE_MODEL);
        config.put("gateway.compute.recipes.main.position", "0");
        // The wake profile: route cold has no backend and no fallback, recipe cold serves it once launched (scale to
        // zero, wake on demand); a state directory of its own so that its instances and learned times stay there.
        config.put("%wake.gateway.routes.cold.models", "cold-model");
        config.put("%wake.gateway.fallback", "");
        config.put("%wake.gateway.compute.recipes.cold.model", COMPUTE_MODEL);
        config.put("%wake.gateway.compute.recipes.cold.route", "cold");
        config.put("%wake.gateway.capacity.default-time-to-ready", "300s");
        config.put("%wake.gateway.state.dir", dir.resolve("wake-state").toString());
    }

    @Override
    public void stop() {
        if (vertx != null) {
            vertx.close();
        }
    }

    private static java.nio.file.Path secretFile(java.nio.file.Path dir, String content) {
        try {
            return java.nio.file.Files.writeString(dir.resolve("omega-api-key"), content);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.nio.file.Path blockedSink(java.nio.file.Path dir) {
        java.nio.file.Path fifo = dir.resolve("blocked.fifo");
        try {
            Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
            if (mkfifo.waitFor() != 0) {
                throw new IllegalStateException("mkfifo failed");
            }
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("the blocked-ledger tests need mkfifo", e);
        }
        return fifo;
    }

    /** A loopback port with nothing listening: connecting to it is refused. */
    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

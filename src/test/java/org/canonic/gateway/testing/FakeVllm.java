package org.canonic.gateway.testing;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An in-process fake vLLM server for tests: speaks vLLM's wire format, follows a script of {@link Behavior}s (one
 * per completion request, then a default), and records everything it receives, including when the gateway closed
 * the connection before the answer was complete.
 */
public final class FakeVllm implements AutoCloseable {

    private final Vertx vertx;
    private final HttpServer server;
    private final ConcurrentLinkedQueue<Behavior> script = new ConcurrentLinkedQueue<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private volatile Behavior fallbackBehavior = Behavior.stream(3);
    private volatile String servedModel;
    private final int defaultMaxModelLen;
    private volatile int maxModelLen;
    private volatile int healthStatus = 200;
    /** What {@code GET /metrics} answers (null: 404, as a server without a metrics page), and after how long. */
    private volatile String metricsPage;
    private volatile long metricsDelayMs;
    /** Completions whose headers carry a value longer than this get 431, as a proxy in front of vLLM answers. */
    private volatile int headerValueLimit;
    private static final java.util.Map<Integer, Buffer> BIG_ANSWERS = new java.util.concurrent.ConcurrentHashMap<>();

    private FakeVllm(Vertx vertx, String servedModel, int maxModelLen) {
        this(vertx, servedModel, maxModelLen, new io.vertx.core.http.HttpServerOptions());
    }

    private FakeVllm(Vertx vertx, String servedModel, int maxModelLen, io.vertx.core.http.HttpServerOptions options) {
        this.vertx = vertx;
        this.servedModel = servedModel;
        this.defaultMaxModelLen = maxModelLen;
        this.maxModelLen = maxModelLen;
        this.server = vertx.createHttpServer(options).requestHandler(this::handle);
    }

    /**
     * A fake rented machine serving vLLM over TLS (as vLLM with {@code --ssl-certfile}/{@code --ssl-keyfile}),
     * first with a throwaway identity; {@link #serveWith} switches to the one the gateway made at launch.
     */
    public static FakeVllm startTls(Vertx vertx, String servedModel, String certificatePem, String keyPem) {
        FakeVllm fake = new FakeVllm(vertx, servedModel, 16384, new io.vertx.core.http.HttpServerOptions()
                .setSsl(true).setKeyCertOptions(identity(certificatePem, keyPem)));
        try {
            fake.server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return fake;
    }

    /**
     * A fake machine that starts serving TLS on {@code port} with this identity, without waiting for it (from a fake
     * provider's handler, when the launch hands the identity over: the way vLLM starts once onstart wrote it).
     */
    public static FakeVllm startTlsLater(Vertx vertx, String servedModel, String certificatePem, String keyPem,
                                         int port) {
        FakeVllm fake = new FakeVllm(vertx, servedModel, 16384, new io.vertx.core.http.HttpServerOptions()
                .setSsl(true).setKeyCertOptions(identity(certificatePem, keyPem)));
        fake.server.listen(port, "127.0.0.1");
        return fake;
    }

    private static io.vertx.core.net.PemKeyCertOptions identity(String certificatePem, String keyPem) {
        return new io.vertx.core.net.PemKeyCertOptions().addCertValue(Buffer.buffer(certificatePem))
                .addKeyValue(Buffer.buffer(keyPem));
    }

    public static FakeVllm start(Vertx vertx, String servedModel) {
        return start(vertx, servedModel, 16384);
    }

    /** A fake that reports {@code maxModelLen} on {@code /v1/models} (and counts {@code /tokenize} as bytes / 4). */
    public static FakeVllm start(Vertx vertx, String servedModel, int maxModelLen) {
        FakeVllm fake = new FakeVllm(vertx, servedModel, maxModelLen);
        try {
            fake.server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return fake;
    }

    public int port() {
        return server.actualPort();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    /** Forgets the script and the recorded requests; the default behaviour becomes a 3-token stream again. */
    public void reset() {
        script.clear();
        received.clear();
        fallbackBehavior = Behavior.stream(3);
        healthStatus = 200;
        maxModelLen = defaultMaxModelLen;
        headerValueLimit = 0;
        metricsPage = null;
        metricsDelayMs = 0;
    }

    /** {@code GET /metrics} answers {@code page} (Prometheus text; null: 404). */
    public FakeVllm metrics(String page) {
        this.metricsPage = page;
        return this;
    }

    /** {@code GET /metrics} answers only after {@code ms}. */
    public FakeVllm metricsDelay(long ms) {
        this.metricsDelayMs = ms;
        return this;
    }

    /**
     * A metrics page as vLLM V1 serves it (trimmed to a few families, with the HELP and TYPE lines, an unrelated
     * histogram and the {@code _created} samples of counters): {@code running} and {@code waiting} requests, the KV
     * cache {@code usage} and the prefix-cache counters.
     */
    public static String vllmMetrics(int running, int waiting, double usage, long prefixQueries, long prefixHits) {
        String labels = "{engine=\"0\",model_name=\"Qwen/Qwen2.5-7B-Instruct\"}";
        return "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
                + "# TYPE vllm:num_requests_running gauge\n"
                + "vllm:num_requests_running" + labels + " " + running + ".0\n"
                + "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n"
                + "# TYPE vllm:num_requests_waiting gauge\n"
                + "vllm:num_requests_waiting" + labels + " " + waiting + ".0\n"
                + "# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.\n"
                + "# TYPE vllm:kv_cache_usage_perc gauge\n"
                + "vllm:kv_cache_usage_perc" + labels + " " + usage + "\n"
                + "# HELP vllm:prefix_cache_queries_total Prefix cache queries, in terms of number of queried tokens.\n"
                + "# TYPE vllm:prefix_cache_queries_total counter\n"
                + "vllm:prefix_cache_queries_total" + labels + " " + prefixQueries + ".0\n"
                + "vllm:prefix_cache_queries_created" + labels + " 1.7648e+09\n"
                + "# HELP vllm:prefix_cache_hits_total Prefix cache hits, in terms of number of cached tokens.\n"
                + "# TYPE vllm:prefix_cache_hits_total counter\n"
                + "vllm:prefix_cache_hits_total" + labels + " " + prefixHits + ".0\n"
                + "# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.\n"
                + "# TYPE vllm:time_to_first_token_seconds histogram\n"
                + "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"0.001\",model_name=\"Qwen/Qwen2.5-7B-Instruct\"} 0.0\n"
                + "vllm:time_to_first_token_seconds_bucket{engine=\"0\",le=\"+Inf\",model_name=\"Qwen/Qwen2.5-7B-Instruct\"} 12.0\n"
                + "vllm:time_to_first_token_seconds_count" + labels + " 12.0\n"
                + "vllm:time_to_first_token_seconds_sum" + labels + " 3.25\n";
    }

    /** The next completion requests get these behaviours, in order. */
    public FakeVllm then(Behavior... behaviors) {
        script.addAll(List.of(behaviors));
        return this;
    }

    /** Behaviour once the script is used up. */
    public FakeVllm always(Behavior behavior) {
        this.fallbackBehavior = behavior;
        return this;
    }

    public FakeVllm servedModel(String model) {
        this.servedModel = model;
        return this;
    }

    public FakeVllm maxModelLen(int maxModelLen) {
        this.maxModelLen = maxModelLen;
        return this;
    }

    /** Completion requests with a header value longer than {@code bytes} are refused with 431 (0 = no limit). */
    public FakeVllm headerValueLimit(int bytes) {
        this.headerValueLimit = bytes;
        return this;
    }

    public FakeVllm healthStatus(int status) {
        this.healthStatus = status;
        return this;
    }

    /** Completion requests received (chat and legacy completions). */
    public List<Received> completionRequests() {
        return received.stream().filter(r -> r.path.endsWith("/completions")).toList();
    }

    /** Requests to {@code /tokenize}. */
    public List<Received> tokenizeRequests() {
        return received.stream().filter(r -> r.path.equals("/tokenize")).toList();
    }

    /** Every request received, probes included. */
    public List<Received> allRequests() {
        return List.copyOf(received);
    }

    public Received lastCompletion() {
        List<Received> completions = completionRequests();
        if (completions.isEmpty()) {
            throw new AssertionError("the fake backend received no completion request");
        }
        return completions.get(completions.size() - 1);
    }

    /** Waits until a completion request has arrived (the gateway may still be on its way). */
    public Received awaitCompletion(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<Received> completions = completionRequests();
            if (!completions.isEmpty()) {
                return completions.get(completions.size() - 1);
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no completion request reached the fake backend within " + timeout);
    }

    @Override
    public void close() {
        server.close();
    }

    private void handle(HttpServerRequest request) {
        request.body().onSuccess(body -> {
            Received record = new Received(request.method().name(), request.path(),
                    MultiMap.caseInsensitiveMultiMap().addAll(request.headers()), body.toString());
            received.add(record);
            HttpServerResponse response = request.response();
            response.closeHandler(v -> record.closedEarly.complete(System.nanoTime()));
            switch (request.path()) {
                case "/health" -> response.setStatusCode(healthStatus).end();
                case "/v1/models" -> json(response, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"" + servedModel
                        + "\",\"object\":\"model\",\"created\":1,\"owned_by\":\"vllm\",\"root\":\"" + servedModel
                        + "\",\"parent\":null,\"max_model_len\":" + maxModelLen + "}]}");
                case "/metrics" -> metricsPage(response);
                case "/tokenize" -> json(response, 200, "{\"count\":" + Math.max(1, body.length() / 4)
                        + ",\"max_model_len\":" + maxModelLen + ",\"tokens\":[]}");
                case "/v1/chat/completions", "/v1/completions" -> {
                    if (headerTooLarge(request)) {
                        json(response, 431, "{\"error\":{\"message\":\"Request Header Fields Too Large\","
                                + "\"type\":\"BadRequestError\",\"param\":null,\"code\":431}}");
                        return;
                    }
                    Behavior behavior = script.poll();
                    answer(request, response, behavior == null ? fallbackBehavior : behavior, record.body);
                }
                default -> json(response, 404, "{\"detail\":\"Not Found\"}");
            }
        });
    }

    private void answer(HttpServerRequest request, HttpServerResponse response, Behavior behavior, String body) {
        switch (behavior.kind) {
            case HANG -> {
                // Never answer; the connection stays open until the gateway closes it.
            }
            case CLOSE -> request.connection().close();
            case BIG -> {
                Buffer answer = BIG_ANSWERS.computeIfAbsent(behavior.bigBytes, FakeVllm::bigAnswer);
                response.setStatusCode(200).putHeader("content-type", "application/json")
                        .putHeader("content-length", Integer.toString(answer.length()));
                writePieces(response, answer, 0, behavior);
            }
            case JSON, STATUS -> vertx.setTimer(Math.max(1, behavior.responseDelayMs), id -> {
                if (!response.closed()) {
                    response.setStatusCode(behavior.status).putHeader("content-type", behavior.contentType)
                            .end(behavior.body.replace("MODEL", servedModel));
                }
            });
            case STREAM -> {
                if (body.replace(" ", "").contains("\"stream\":true")) {
                    new FakeStream(vertx, request, response, behavior, servedModel, body).start();
                } else {
                    // As vLLM: a non-stream request gets the whole answer as one JSON body, once generated.
                    long generation = behavior.firstTokenDelayMs + behavior.tokens * behavior.tokenDelayMs;
                    vertx.setTimer(Math.max(1, generation), id -> {
                        if (!response.closed()) {
                            json(response, 200, FakeStream.completion(servedModel, behavior.tokens));
                        }
                    });
                }
            }
        }
    }

    private void metricsPage(HttpServerResponse response) {
        String page = metricsPage;
        if (page == null) {
            json(response, 404, "{\"detail\":\"Not Found\"}");
            return;
        }
        vertx.setTimer(Math.max(1, metricsDelayMs), id -> {
            if (!response.closed()) {
                response.setStatusCode(200).putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8")
                        .end(page);
            }
        });
    }

    private boolean headerTooLarge(HttpServerRequest request) {
        int limit = headerValueLimit;
        if (limit <= 0) {
            return false;
        }
        for (var header : request.headers()) {
            if (header.getValue().length() > limit) {
                return true;
            }
        }
        return false;
    }

    private void writePieces(HttpServerResponse response, Buffer answer, int from, Behavior behavior) {
        if (response.closed()) {
            return;
        }
        int to = Math.min(answer.length(), from + behavior.pieceBytes);
        if (to == answer.length()) {
            response.end(answer.slice(from, to));
            return;
        }
        response.write(answer.slice(from, to));
        vertx.setTimer(Math.max(1, behavior.pieceDelayMs), id -> writePieces(response, answer, to, behavior));
    }

    /** A chat completion whose content is {@code bytes} letters. */
    private static Buffer bigAnswer(int bytes) {
        return Buffer.buffer("{\"id\":\"chatcmpl-big\",\"object\":\"chat.completion\",\"created\":1,"
                + "\"model\":\"big\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
                + "x".repeat(bytes) + "\"},\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null}],"
                + "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":" + (bytes / 4) + ",\"total_tokens\":"
                + (11 + bytes / 4) + "}}");
    }

    private static void json(HttpServerResponse response, int status, String body) {
        response.setStatusCode(status).putHeader("content-type", "application/json").end(body);
    }
}

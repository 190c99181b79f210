package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A simulated vLLM server, so the gateway answers real OpenAI requests on a machine without a GPU, and so routing can
 * be measured against something that queues, batches and caches prefixes like vLLM. It speaks vLLM's wire format
 * ({@code /health}, {@code /v1/models} with {@code max_model_len}, streaming chat and completions with a usage chunk,
 * context-overflow errors, {@code /tokenize}, {@code /metrics}) and generates canned text, each model on a
 * {@link SimulatedGpu} of its own. A client that closes its connection aborts its request at once, as on vLLM.
 */
public final class SimulatorServer {

    private final Vertx vertx;
    private final SimulatorSettings settings;
    private final ObjectMapper mapper;
    private final HttpServer server;
    private final SimulatedAnswers answers;
    private final Map<String, SimulatedGpu> gpus = new LinkedHashMap<>();
    private final SplittableRandom stallDraws;
    private final AtomicLong received = new AtomicLong();

    private SimulatorServer(Vertx vertx, SimulatorSettings settings, ObjectMapper mapper) {
        this.vertx = vertx;
        this.settings = settings;
        this.mapper = mapper;
        this.answers = new SimulatedAnswers(settings.maxModelLen());
        this.stallDraws = new SplittableRandom(settings.seed());
        for (String model : settings.models()) {
            gpus.put(model, new SimulatedGpu(model, settings.cost(), settings.kvBlocks(), settings.maxNumSeqs(),
                    settings.maxNumBatchedTokens()));
        }
        this.server = vertx.createHttpServer().requestHandler(this::handle);
    }

    /** Starts the simulator and waits until it listens; fails if the settings are invalid or it cannot listen. */
    public static SimulatorServer start(Vertx vertx, SimulatorSettings settings, ObjectMapper mapper) {
        if (!settings.problems("").isEmpty()) {
            throw new IllegalArgumentException("invalid simulator settings: " + settings.problems(""));
        }
        SimulatorServer simulator = new SimulatorServer(vertx, settings, mapper);
        try {
            simulator.server.listen(settings.port(), settings.host()).toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            simulator.gpus.values().forEach(SimulatedGpu::close);
            throw new IllegalStateException("the simulated vLLM could not listen on " + settings.host() + ":"
                    + settings.port(), e);
        }
        return simulator;
    }

    /** The simulator's OpenAI base URL. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    public int port() {
        return server.actualPort();
    }

    public void stop() {
        server.close();
        gpus.values().forEach(SimulatedGpu::close);
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if (request.method() == HttpMethod.GET && path.equals("/health")) {
            request.response().setStatusCode(200).end();
        } else if (request.method() == HttpMethod.GET && path.equals("/v1/models")) {
            json(request.response(), 200, models());
        } else if (request.method() == HttpMethod.GET && path.equals("/metrics")) {
            metrics(request.response());
        } else if (request.method() == HttpMethod.POST && path.equals("/tokenize")) {
            request.body().onSuccess(body -> tokenize(request.response(), body));
        } else if (request.method() == HttpMethod.POST && path.equals("/v1/chat/completions")) {
            received.incrementAndGet();
            request.body().onSuccess(body -> complete(request.response(), body, true));
        } else if (request.method() == HttpMethod.POST && path.equals("/v1/completions")) {
            received.incrementAndGet();
            request.body().onSuccess(body -> complete(request.response(), body, false));
        } else {
            error(request.response(), 404, "Not Found", "NotFoundError");
        }
    }

    private ObjectNode models() {
        ObjectNode list = mapper.createObjectNode().put("object", "list");
        ArrayNode data = list.putArray("data");
        for (String model : settings.models()) {
            data.addObject().put("id", model).put("object", "model").put("created", 0).put("owned_by", "vllm")
                    .put("root", model).putNull("parent").put("max_model_len", settings.maxModelLen());
        }
        return list;
    }

    private void metrics(HttpServerResponse response) {
        Map<String, EngineStats> stats = new LinkedHashMap<>();
        gpus.forEach((model, gpu) -> stats.put(model, gpu.stats()));
        response.setStatusCode(200).putHeader("content-type", MetricsPage.CONTENT_TYPE)
                .end(MetricsPage.render(stats, received.get()));
    }

    private void tokenize(HttpServerResponse response, Buffer body) {
        JsonNode request = parse(response, body);
        if (request != null) {
            json(response, 200, mapper.createObjectNode().put("count", SimulatedAnswers.promptTokens(request))
                    .put("max_model_len", settings.maxModelLen()).set("tokens", mapper.createArrayNode()));
        }
    }

    private void complete(HttpServerResponse response, Buffer body, boolean chat) {
        JsonNode request = parse(response, body);
        if (request == null) {
            return;
        }
        String model = request.path("model").asText("");
        SimulatedGpu gpu = gpus.get(model);
        if (gpu == null) {
            error(response, 404, "The model `" + model + "` does not exist.", "NotFoundError");
            return;
        }
        SimulatedAnswers.Answer answer;
        try {
            answer = answers.answer(request, chat);
        } catch (IllegalArgumentException overflow) {
            error(response, 400, overflow.getMessage(), "BadRequestError");
            return;
        }
        Context context = vertx.getOrCreateContext();
        TokenSink sink;
        if (request.path("stream").asBoolean(false)) {
            SimulatedStream stream = new SimulatedStream(context, mapper, response, model, answer, chat,
                    request.path("stream_options").path("include_usage").asBoolean(false));
            stream.open();
            sink = stream;
        } else {
            sink = (token, finished) -> {
                if (finished) {
                    context.runOnContext(v -> {
                        if (!response.closed()) {
                            json(response, 200, answer.toCompletion(mapper, model, chat));
                        }
                    });
                }
            };
        }
        Sequence sequence = new Sequence(new SequenceText(answer.prompt(), answer.text()), sink);
        long stallMs = stalls() ? settings.stallDuration().toMillis() : 0;
        if (stallMs > 0) {
            // Held back before the queue, so a hedged twin elsewhere can overtake it; one whose client left never joins.
            long timer = vertx.setTimer(stallMs, id -> gpu.submit(sequence));
            response.closeHandler(v -> {
                vertx.cancelTimer(timer);
                gpu.abort(sequence);
            });
        } else {
            response.closeHandler(v -> gpu.abort(sequence));
            gpu.submit(sequence);
        }
    }

    private boolean stalls() {
        double rate = settings.stallRate();
        if (rate <= 0) {
            return false;
        }
        synchronized (stallDraws) {
            return stallDraws.nextDouble() < rate;
        }
    }

    private JsonNode parse(HttpServerResponse response, Buffer body) {
        try {
            return mapper.readTree(body.getBytes());
        } catch (Exception e) {
            error(response, 400, "Invalid JSON body", "BadRequestError");
            return null;
        }
    }

    private void json(HttpServerResponse response, int status, JsonNode body) {
        response.setStatusCode(status).putHeader("content-type", "application/json").end(body.toString());
    }

    private void error(HttpServerResponse response, int status, String message, String type) {
        ObjectNode body = mapper.createObjectNode();
        body.putObject("error").put("message", message).put("type", type).putNull("param").put("code", status);
        json(response, status, body);
    }
}

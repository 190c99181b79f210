package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.canonic.gateway.config.GatewayConfig.SimulatorConfig;
import org.jboss.logging.Logger;

import java.util.concurrent.TimeUnit;

/**
 * A simulated vLLM server, so the gateway answers real OpenAI requests on a machine without a GPU. It speaks vLLM's
 * wire format ({@code /health}, {@code /v1/models} with {@code max_model_len}, streaming chat and completions with
 * a usage chunk, context-overflow errors, {@code /tokenize}) but generates canned text. It listens on loopback only
 * and is off unless {@code gateway.simulator.enabled} is set, which only the dev profile does.
 */
public final class SimulatorServer {

    private static final Logger LOG = Logger.getLogger(SimulatorServer.class);

    private final Vertx vertx;
    private final SimulatorConfig config;
    private final ObjectMapper mapper;
    private final HttpServer server;
    private final SimulatedAnswers answers;

    private SimulatorServer(Vertx vertx, SimulatorConfig config, ObjectMapper mapper) {
        this.vertx = vertx;
        this.mapper = mapper;
        this.config = config;
        this.answers = new SimulatedAnswers(config.maxModelLen());
        this.server = vertx.createHttpServer().requestHandler(this::handle);
    }

    /** Starts the simulator and waits until it listens; start-up fails if it cannot. */
    public static SimulatorServer start(Vertx vertx, SimulatorConfig config, ObjectMapper mapper) {
        SimulatorServer simulator = new SimulatorServer(vertx, config, mapper);
        try {
            simulator.server.listen(config.port(), "127.0.0.1").toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the embedded vLLM simulator could not listen on 127.0.0.1:"
                    + config.port(), e);
        }
        LOG.warnf("SIMULATOR: the embedded simulated vLLM backend serves %s at %s. It generates canned text; "
                + "never enable it in production.", config.models(), simulator.baseUrl());
        return simulator;
    }

    /** The simulator's OpenAI base URL. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.actualPort() + "/v1";
    }

    public void stop() {
        server.close();
    }

    private void handle(HttpServerRequest request) {
        String path = request.path();
        if (request.method() == HttpMethod.GET && path.equals("/health")) {
            request.response().setStatusCode(200).end();
        } else if (request.method() == HttpMethod.GET && path.equals("/v1/models")) {
            json(request.response(), 200, models());
        } else if (request.method() == HttpMethod.POST && path.equals("/tokenize")) {
            request.body().onSuccess(body -> tokenize(request.response(), body));
        } else if (request.method() == HttpMethod.POST && path.equals("/v1/chat/completions")) {
            request.body().onSuccess(body -> complete(request.response(), body, true));
        } else if (request.method() == HttpMethod.POST && path.equals("/v1/completions")) {
            request.body().onSuccess(body -> complete(request.response(), body, false));
        } else {
            error(request.response(), 404, "Not Found", "NotFoundError");
        }
    }

    private ObjectNode models() {
        ObjectNode list = mapper.createObjectNode().put("object", "list");
        ArrayNode data = list.putArray("data");
        for (String model : config.models()) {
            data.addObject().put("id", model).put("object", "model").put("created", 0).put("owned_by", "vllm")
                    .put("root", model).putNull("parent").put("max_model_len", config.maxModelLen());
        }
        return list;
    }

    private void tokenize(HttpServerResponse response, Buffer body) {
        JsonNode request = parse(response, body);
        if (request != null) {
            json(response, 200, mapper.createObjectNode().put("count", answers.promptTokens(request))
                    .put("max_model_len", config.maxModelLen()).set("tokens", mapper.createArrayNode()));
        }
    }

    private void complete(HttpServerResponse response, Buffer body, boolean chat) {
        JsonNode request = parse(response, body);
        if (request == null) {
            return;
        }
        String model = request.path("model").asText("");
        if (!config.models().contains(model)) {
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
        if (request.path("stream").asBoolean(false)) {
            new SimulatedStream(vertx, mapper, response, model, answer, chat,
                    request.path("stream_options").path("include_usage").asBoolean(false),
                    config.tokenInterval().toMillis()).start();
        } else {
            json(response, 200, answer.toCompletion(mapper, model, chat));
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

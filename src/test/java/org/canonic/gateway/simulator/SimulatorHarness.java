package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/** A simulated vLLM started in-process on a free port, and a plain HTTP/1.1 client for it. */
final class SimulatorHarness implements AutoCloseable {

    static final String MODEL = SimulatorSettings.DEFAULT_MODEL;
    static final ObjectMapper JSON = new ObjectMapper();

    /** What a stream delivered: its time to the first data event and every data payload. */
    record Streamed(int status, long firstDataMillis, long totalMillis, List<String> data) {
    }

    private final Vertx vertx = Vertx.vertx();
    private final SimulatorServer server;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    SimulatorHarness(SimulatorSettings settings) {
        this.server = SimulatorServer.start(vertx, settings, JSON);
    }

    static SimulatorHarness start() {
        return new SimulatorHarness(SimulatorSettings.defaults(List.of(MODEL)));
    }

    int port() {
        return server.port();
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20))
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Posts a stream request and reads it line by line, timing the first {@code data:} event as a client sees it. */
    Streamed stream(String body) throws IOException, InterruptedException {
        long start = System.nanoTime();
        HttpResponse<Stream<String>> response = http.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(20)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        long first = -1;
        List<String> data = new ArrayList<>();
        try (Stream<String> lines = response.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (line.startsWith("data:")) {
                    if (first < 0) {
                        first = System.nanoTime();
                    }
                    data.add(line.substring(5).strip());
                }
            }
        }
        long end = System.nanoTime();
        return new Streamed(response.statusCode(), first < 0 ? -1 : (first - start) / 1_000_000,
                (end - start) / 1_000_000, data);
    }

    String metricsText() throws IOException, InterruptedException {
        return get("/metrics").body();
    }

    /** Each series' value by its name (labels dropped: the harness serves one model). */
    Map<String, Double> metrics() throws IOException, InterruptedException {
        Map<String, Double> values = new HashMap<>();
        for (String line : metricsText().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                int space = line.lastIndexOf(' ');
                int brace = line.indexOf('{');
                values.put(line.substring(0, brace < 0 ? space : brace), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return values;
    }

    double metric(String name) throws IOException, InterruptedException {
        Double value = metrics().get(name);
        if (value == null) {
            throw new AssertionError("no series " + name + " in\n" + metricsText());
        }
        return value;
    }

    /** Polls until the condition holds; false if it did not within the time given. */
    static boolean await(long timeoutMs, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(10);
        }
        return condition.getAsBoolean();
    }

    /** A metric read for a condition; an I/O failure reads as NaN, so the condition is simply not met yet. */
    double read(String name) {
        try {
            return metric(name);
        } catch (IOException e) {
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    /** A chat request with one user message; {@code maxTokens} < 0 leaves the limit out. */
    static String chat(String content, int maxTokens, boolean ignoreEos, boolean stream) {
        ObjectNode request = JSON.createObjectNode().put("model", MODEL).put("stream", stream);
        if (stream) {
            request.putObject("stream_options").put("include_usage", true);
        }
        if (maxTokens >= 0) {
            request.put("max_tokens", maxTokens);
        }
        if (ignoreEos) {
            request.put("ignore_eos", true);
        }
        request.putArray("messages").addObject().put("role", "user").put("content", content);
        return request.toString();
    }

    /** About {@code tokens} tokens of text that differs from any other tag's from its first block on. */
    static String text(String tag, int tokens) {
        StringBuilder text = new StringBuilder(tag).append(": ");
        for (int i = 0; text.length() < tokens * 4; i++) {
            text.append(tag).append(" line ").append(i).append(" of a long and repetitive prompt. ");
        }
        return text.substring(0, tokens * 4);
    }

    @Override
    public void close() throws Exception {
        server.stop();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}

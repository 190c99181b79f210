package org.canonic.gateway.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** A plain HTTP client for the gateway under test, with helpers for SSE answers. */
public final class GatewayClient {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1).build();
    private final URI base;

    public GatewayClient(URI base) {
        this.base = base;
    }

    public HttpResponse<String> post(String path, String json, String... headers) {
        return send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofString(json))
                .header("content-type", "application/json"), headers);
    }

    public HttpResponse<String> get(String path, String... headers) {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET(), headers);
    }

    /** Any method, with an optional JSON body: for the admin API. */
    public HttpResponse<String> call(String method, String path, String json, String... headers) {
        HttpRequest.BodyPublisher body = json == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(json);
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).method(method, body);
        if (json != null) {
            request.header("content-type", "application/json");
        }
        return send(request, headers);
    }

    /** A POST whose answer is awaited later: to keep requests in flight while the test does something else. */
    public java.util.concurrent.CompletableFuture<HttpResponse<String>> postAsync(String path, String json,
                                                                                  String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .header("content-type", "application/json").timeout(Duration.ofSeconds(30));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.setHeader(headers[i], headers[i + 1]);
        }
        return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends with the given headers (name, value, name, value, ...), which replace any set before. */
    private HttpResponse<String> send(HttpRequest.Builder request, String... headers) {
        request.timeout(Duration.ofSeconds(30));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.setHeader(headers[i], headers[i + 1]);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("request to the gateway failed: " + e, e);
        }
    }

    /** The SSE events of a body: each event's lines joined, blank-line separated events split. */
    public static List<String> events(String body) {
        return List.of(body.split("\n\n")).stream().map(String::strip).filter(e -> !e.isEmpty())
                .collect(Collectors.toList());
    }

    /** Only the {@code data:} events' payloads. */
    public static List<String> dataPayloads(String body) {
        return events(body).stream().filter(e -> e.startsWith("data:"))
                .map(e -> e.substring("data:".length()).strip()).collect(Collectors.toList());
    }

    /** A chat request body for a model, as JSON. */
    public static String chat(String model, boolean stream) {
        return "{\"model\":\"" + model + "\",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    }
}

package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.testing.FakeBackends;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Admin API calls over real HTTP, with the admin token unless told otherwise. */
final class AdminClient {

    static final String AUTH = "Bearer " + FakeBackends.ADMIN_TOKEN;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1).build();
    private final URI base;

    AdminClient(URI base) {
        this.base = base;
    }

    /** A call with the admin bearer token and the given headers (name, value, ...). */
    HttpResponse<String> admin(String method, String path, String body, String... headers) {
        List<String> all = new ArrayList<>(List.of("authorization", AUTH));
        all.addAll(List.of(headers));
        return send(method, path, body, all.toArray(String[]::new));
    }

    /** A call with exactly the given headers. */
    HttpResponse<String> send(String method, String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("content-type", "application/json");
        }
        for (int i = 0; i + 1 < headers.length; i += 2) {
            request.setHeader(headers[i], headers[i + 1]);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("request to the gateway failed: " + e, e);
        }
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return MAPPER.readTree(response.body());
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + response.body(), e);
        }
    }

    /** Asserts the OpenAI error shape and returns the error object. */
    static JsonNode error(HttpResponse<String> response) {
        JsonNode error = json(response).get("error");
        if (error == null || !error.has("message") || !error.has("type") || !error.has("param")
                || !error.has("code")) {
            throw new AssertionError("not an OpenAI-shaped error: " + response.body());
        }
        return error;
    }
}

package org.canonic.gateway.routing;

import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.Behavior;
import org.canonic.gateway.testing.FakeVllm;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.canonic.gateway.testing.FakeBackends.large;
import static org.canonic.gateway.testing.FakeBackends.medium;
import static org.canonic.gateway.testing.FakeBackends.omega;
import static org.canonic.gateway.testing.FakeBackends.small;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default admission settings hold a full vLLM batch: 256 concurrent paced streams (an event every 5 ms, 36 events)
 * of one client key on one backend all complete, with no 429 or 503, though the adaptive limit starts far lower.
 */
@QuarkusTest
class ManyStreamsTest extends GatewayTest {

    private static final int STREAMS = 256;

    @Test
    void twoHundredFiftySixConcurrentStreamsOfOneKeyOnOneBackendAllComplete() throws Exception {
        // Role chunk, 32 content chunks, finish and usage chunks, [DONE]: 36 events, one every 5 ms.
        // Small takes them; medium and large (the same model) only if small's probes time out under this load and
        // health ordering moves requests there: they then behave the same.
        for (FakeVllm fake : List.of(small(), medium(), large())) {
            fake.always(Behavior.stream(32).tokenDelay(5));
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        URI uri = gatewayUri().resolve("/v1/chat/completions");
        String body = "{\"model\":\"fit-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < STREAMS; i++) {
            answers.add(http.sendAsync(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        int ok = 0;
        List<String> failures = new ArrayList<>();
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
            HttpResponse<String> response = answer.get(90, TimeUnit.SECONDS);
            if (response.statusCode() == 200 && response.body().endsWith("data: [DONE]\n\n")
                    && response.body().contains("tok31") && !response.body().contains("\"error\"")) {
                ok++;
            } else if (failures.size() < 3) {
                failures.add(response.statusCode() + " " + response.body());
            }
        }
        assertEquals(STREAMS, ok, "every stream completed; first failures: " + failures);
        assertEquals(STREAMS, small().completionRequests().size() + medium().completionRequests().size()
                + large().completionRequests().size(), "each sent upstream once");
        assertEquals(0, omega().completionRequests().size(), "none spilled to the fallback");
        String metrics = management.get("/q/metrics").body();
        assertTrue(metrics.contains("gateway_backend_concurrency_limit{backend=\"small\"}"), metrics);
    }
}

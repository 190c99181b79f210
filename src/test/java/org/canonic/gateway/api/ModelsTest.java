package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.canonic.gateway.testing.FakeBackends.alpha;
import static org.canonic.gateway.testing.FakeBackends.beta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class ModelsTest extends GatewayTest {

    @Test
    void modelsListsTheNamesClientsMayUse() {
        HttpResponse<String> response = gateway.get("/v1/models");

        assertEquals(200, response.statusCode());
        JsonNode list = json(response.body());
        assertEquals("list", list.get("object").asText());
        List<String> ids = new ArrayList<>();
        list.get("data").forEach(card -> {
            assertEquals("model", card.get("object").asText());
            ids.add(card.get("id").asText());
        });
        assertTrue(ids.containsAll(List.of("main-model", "refused-model", "solo-model")), ids.toString());
        // beta's id is served by two routes (main and refused): ambiguous, so only the aliases name it.
        assertTrue(!ids.contains(FakeBackends.BETA_MODEL), ids.toString());
        assertTrue(!response.body().contains("127.0.0.1"), "no backend address is listed");
    }

    @Test
    void unknownModelsAreRefusedWith404ListingTheAvailableNamesAndNothingIsForwarded() {
        HttpResponse<String> response = gateway.post("/v1/chat/completions",
                "{\"model\":\"" + FakeBackends.OMEGA_MODEL + "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(404, response.statusCode(), "omega is only the fallback, it owns no route: " + response.body());

        HttpResponse<String> unknown = gateway.post("/v1/chat/completions",
                "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertEquals(404, unknown.statusCode());
        JsonNode error = json(unknown.body()).get("error");
        assertEquals("model_not_found", error.get("code").asText());
        assertEquals("model", error.get("param").asText());
        assertTrue(error.get("message").asText().contains("main-model"));
        assertEquals(0, alpha().completionRequests().size() + beta().completionRequests().size());
    }

    @Test
    void otherMethodsAndUnknownPathsAreRefusedInOpenAiShape() {
        HttpResponse<String> get = gateway.get("/v1/chat/completions");
        assertEquals(405, get.statusCode());
        assertEquals("method_not_allowed", json(get.body()).at("/error/code").asText());
    }
}

package org.canonic.gateway.fleet;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.backend.Backend;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.testing.ConfigFixture;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which backends have their /metrics read: vLLM-probed ones unless told otherwise, from configuration and the API. */
class LoadSignalsSettingTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static Backend resolve(String probe, Boolean loadSignals, String url) {
        GatewayConfig config = ConfigFixture.with().build();
        List<String> problems = new ArrayList<>();
        BackendDefinition definition = new BackendDefinition("b", url, "m", null, null, null, null, null, null,
                null, null, probe, null, null, loadSignals);
        Optional<Backend> backend = new BackendResolver(config.defaults(), Optional.empty(), name -> null)
                .resolve(definition, BackendResolver.apiNaming(), problems);
        assertEquals(List.of(), problems);
        return backend.orElseThrow();
    }

    @Test
    void onForVllmBackendsOffForTheOthersUnlessSet() {
        assertTrue(resolve("vllm", null, "http://10.0.0.5:8000/v1").loadSignals());
        assertTrue(resolve("auto", null, "http://10.0.0.5:8000/v1").loadSignals());
        assertFalse(resolve("auto", null, "https://api.runpod.ai/v2/abc123/openai/v1").loadSignals(),
                "RunPod serverless has no vLLM metrics page");
        assertFalse(resolve("models", null, "https://api.example.com/v1").loadSignals());
        assertFalse(resolve("vllm", false, "http://10.0.0.5:8000/v1").loadSignals());
        assertTrue(resolve("models", true, "https://api.example.com/v1").loadSignals());
    }

    @Test
    void aRegistrationMaySetItButNotChangeIt() throws Exception {
        List<String> problems = new ArrayList<>();
        BackendRegistration registration = BackendRegistration.parse(JSON.readTree("{\"name\":\"g\",\"base_url\":"
                + "\"http://10.0.0.7:8000/v1\",\"model\":\"m\",\"routes\":[\"chat\"],\"load_signals\":false}"), problems);
        assertEquals(List.of(), problems);
        assertEquals(Boolean.FALSE, registration.definition().loadSignals());
        assertEquals(false, registration.toJson().get("load_signals").asBoolean(true), "kept when stored");

        registration.patched(JSON.readTree("{\"load_signals\":true}"), problems);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("load_signals cannot change"), problems.toString());

        problems.clear();
        BackendRegistration.parse(JSON.readTree("{\"name\":\"g\",\"base_url\":\"http://10.0.0.7:8000/v1\","
                + "\"model\":\"m\",\"routes\":[\"chat\"],\"load_signals\":\"yes\"}"), problems);
        assertEquals(List.of("load_signals must be true or false"), problems);
    }
}

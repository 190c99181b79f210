package org.canonic.gateway.coordination;

import org.canonic.gateway.testing.PackagedGateway;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged gateway refuses to start on a state directory another live gateway uses with the embedded store (two
 * replicas of one Compose service on one volume, say), and starts on it once that one has stopped.
 */
class StateDirectoryClaimIT {

    @Test
    void aSecondGatewayOnTheSameEmbeddedStateIsRefusedWhileTheFirstRuns() throws Exception {
        assertTrue(Files.exists(PackagedGateway.JAR), "package the gateway first");
        Path state = Files.createTempDirectory("claim-it-state");
        Map<String, String> env = Map.of("GATEWAY_STATE_DIR", state.toString(), "GATEWAY_AUTH", "none");
        PackagedGateway first = PackagedGateway.start(env);
        try {
            Process second = PackagedGateway.launch(env);
            assertTrue(second.waitFor(60, TimeUnit.SECONDS), "a refused start must end");
            String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertNotEquals(0, second.exitValue(), output);
            assertTrue(output.contains("another gateway process uses the state directory " + state.toRealPath())
                    || output.contains("another gateway process uses the state directory " + state), output);
            assertTrue(output.contains("pid " + first.process().pid()), output);
        } finally {
            first.terminate(40);
        }
        PackagedGateway after = PackagedGateway.start(env);
        after.terminate(40);
    }
}

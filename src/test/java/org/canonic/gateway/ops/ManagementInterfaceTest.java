package org.canonic.gateway.ops;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.canonic.gateway.testing.FakeBackends;
import org.canonic.gateway.testing.GatewayTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Health details and metrics are served on the management port only: whatever reaches the API port (the one the
 * tunnel routes) cannot read them.
 */
@QuarkusTest
@QuarkusTestResource(FakeBackends.class)
class ManagementInterfaceTest extends GatewayTest {

    @Test
    void healthAndMetricsAreOnTheManagementPortOnly() {
        assertNotEquals(gatewayPort(), managementUrl.getPort());
        for (String path : new String[]{"/q/health/live", "/q/health/ready", "/q/health", "/q/metrics"}) {
            assertEquals(200, management.get(path).statusCode(), path);
            assertEquals(404, gateway.get(path).statusCode(), path + " must not be served on the API port");
        }
        assertTrue(management.get("/q/metrics").body().contains("gateway_requests_total")
                || management.get("/q/metrics").body().contains("gateway_backend_state"));
    }
}

package org.canonic.gateway.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quarkus.arc.Arc;
import io.quarkus.test.common.http.TestHTTPResource;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.fleet.LiveBackend;
import org.junit.jupiter.api.BeforeEach;

import java.net.URI;
import java.net.URL;

/** Base of the HTTP behaviour tests: a client for the gateway and fresh fakes for every test. */
public abstract class GatewayTest {

    protected static final ObjectMapper MAPPER = new ObjectMapper();

    @TestHTTPResource("/")
    protected URL gatewayUrl;

    /** The management interface (health and metrics), a port of its own. */
    @TestHTTPResource(value = "/", management = true)
    protected URL managementUrl;

    protected GatewayClient gateway;

    protected GatewayClient management;

    @BeforeEach
    void freshFakes() throws Exception {
        FakeBackends.resetAll();
        gateway = new GatewayClient(gatewayUrl.toURI());
        management = new GatewayClient(managementUrl.toURI());
        awaitReady();
    }

    /**
     * Backends take traffic only once probes proved them: wait until every route serves (the public summary says
     * UP; readiness alone only says that some route does) before a test sends anything.
     */
    protected void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!gateway.get("/health").body().contains("\"status\":\"UP\"")) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the gateway did not become ready: " + gateway.get("/health").body());
            }
            Thread.sleep(50);
        }
    }

    /** Closes every backend's circuit breaker: breakers an earlier test opened must not decide this one's routing. */
    protected static void resetBreakers() {
        Arc.container().instance(Fleet.class).get().snapshot().backends().values()
                .forEach(LiveBackend::resetBreaker);
    }

    protected int gatewayPort() {
        return gatewayUrl.getPort();
    }

    protected URI gatewayUri() {
        try {
            return gatewayUrl.toURI();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    protected static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    /** A JSON tree without the fields the gateway governs, for comparing what was sent with what arrived. */
    protected static JsonNode withoutGoverned(String body) {
        ObjectNode tree = (ObjectNode) json(body);
        tree.remove("model");
        tree.remove("stream_options");
        tree.remove("max_tokens");
        tree.remove("max_completion_tokens");
        return tree;
    }
}

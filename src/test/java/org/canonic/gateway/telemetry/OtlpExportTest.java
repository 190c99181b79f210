package org.canonic.gateway.telemetry;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With an OTLP endpoint configured, a request's spans reach a real OTLP/HTTP receiver (an in-process HTTP server):
 * one protobuf POST to the traces path carrying the client's trace id, the service name and the span's name.
 * Without one, tracing is off.
 */
class OtlpExportTest {

    private static final String TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

    @Test
    void spansGoToTheConfiguredOtlpHttpEndpoint() throws Exception {
        Vertx vertx = Vertx.vertx();
        List<String> paths = new CopyOnWriteArrayList<>();
        List<String> types = new CopyOnWriteArrayList<>();
        List<byte[]> bodies = new CopyOnWriteArrayList<>();
        HttpServer receiver = vertx.createHttpServer().requestHandler(request -> request.body().onSuccess(body -> {
            paths.add(request.path());
            types.add(request.getHeader("content-type"));
            bodies.add(body.getBytes());
            request.response().putHeader("content-type", "application/x-protobuf").end(Buffer.buffer());
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get();
        try {
            Tracing tracing = new Tracing(Optional.of("http://127.0.0.1:" + receiver.actualPort() + "/v1/traces"),
                    "magic-gateway-otlp-test");
            assertTrue(tracing.on());
            try (Ledger ledger = new Ledger(Optional.empty(), 16, 1 << 20)) {
                Telemetry telemetry = new Telemetry(new GatewayMetrics(new SimpleMeterRegistry()), ledger, false,
                        tracing);
                RequestRecord record = telemetry.open("req-otlp", System.nanoTime(), MultiMap.caseInsensitiveMultiMap()
                        .add("traceparent", "00-" + TRACE_ID + "-b7ad6b7169203331-01"));
                record.request("kilo", "main", "main-model", "chat", true);
                record.usage(11, 3, false);
                telemetry.close(record, Outcome.COMPLETED, 200, null);
            }
            tracing.close(); // flushes the batch
            assertEquals(List.of("/v1/traces"), paths);
            assertEquals("application/x-protobuf", types.get(0));
            String body = new String(bodies.get(0), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertTrue(body.contains(new String(HexFormat.of().parseHex(TRACE_ID),
                    java.nio.charset.StandardCharsets.ISO_8859_1)), "the client's trace id");
            assertTrue(body.contains("magic-gateway-otlp-test"), "service.name");
            assertTrue(body.contains("chat main-model"), "the span's name");
            assertTrue(body.contains("gen_ai.usage.input_tokens"), "GenAI attributes");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get();
        }
    }

    @Test
    void withoutAnEndpointTracingIsOff() {
        Tracing tracing = new Tracing(Optional.of("  "), "magic-gateway");
        assertFalse(tracing.on());
        assertEquals(null, tracing.startRequest(MultiMap.caseInsensitiveMultiMap(), 0));
        tracing.close();
    }
}

package org.canonic.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged jar started as a deployment starts it: production profile, only environment variables, a free port.
 * Its output is collected (never left to fill a pipe) so tests can read what it logged.
 */
public final class PackagedGateway {

    public static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");

    private final Process process;
    private final GatewayClient client;
    private final GatewayClient management;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();

    private PackagedGateway(Process process, GatewayClient client, GatewayClient management) {
        this.process = process;
        this.client = client;
        this.management = management;
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[8192];
            int read;
            try {
                while ((read = process.getInputStream().read(buffer)) >= 0) {
                    synchronized (output) {
                        output.write(buffer, 0, read);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "packaged-gateway-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the jar with {@code env} on top of a clean environment (no deployment variables of this machine). */
    public static Process launch(Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", JAR.toString()).redirectErrorStream(true);
        builder.environment().keySet().removeIf(name -> name.startsWith("RUNPOD_") || name.startsWith("VASTAI_")
                || name.startsWith("GATEWAY_") || name.equals("FALLBACK_PROVIDER") || name.startsWith("QUARKUS_"));
        builder.environment().putAll(env);
        // Never the production ports: another gateway (or a second test) may hold 8080 or 9000.
        for (String port : new String[]{"QUARKUS_HTTP_PORT", "QUARKUS_MANAGEMENT_PORT"}) {
            if (!env.containsKey(port)) {
                builder.environment().put(port, Integer.toString(freePort()));
            }
        }
        return builder.start();
    }

    /** Starts the jar and waits until it answers liveness (on the management interface, a free port of its own). */
    public static PackagedGateway start(Map<String, String> env) throws Exception {
        int port = freePort();
        int managementPort = freePort();
        Map<String, String> withPort = new HashMap<>(env);
        withPort.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        // The dev profile names its own port (a profile property, which the plain one does not override).
        withPort.put("_DEV_QUARKUS_HTTP_PORT", Integer.toString(port));
        withPort.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(managementPort));
        PackagedGateway gateway = new PackagedGateway(launch(withPort),
                new GatewayClient(URI.create("http://127.0.0.1:" + port + "/")),
                new GatewayClient(URI.create("http://127.0.0.1:" + managementPort + "/")));
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            try {
                if (gateway.management.get("/q/health/live").statusCode() == 200) {
                    return gateway;
                }
            } catch (AssertionError notYet) {
                // not listening yet
            }
            if (!gateway.process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("the gateway did not start:\n" + gateway.output());
            }
            Thread.sleep(100);
        }
    }

    public GatewayClient client() {
        return client;
    }

    /** The management interface: /q/health/*, /q/metrics. */
    public GatewayClient management() {
        return management;
    }

    public Process process() {
        return process;
    }

    public String output() {
        synchronized (output) {
            return output.toString(StandardCharsets.UTF_8);
        }
    }

    /** Waits until {@code GET /health/{route}} answers 200. */
    public void awaitRoute(String route) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (client.get("/health/" + route).statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("route " + route + " never served: " + client.get("/health").body());
            }
            Thread.sleep(100);
        }
    }

    /** Sends SIGTERM (what an orchestrator sends); returns the exit code, or fails after {@code seconds}. */
    public int terminate(long seconds) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the gateway did not stop within " + seconds + " s:\n" + output());
        }
        return process.exitValue();
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

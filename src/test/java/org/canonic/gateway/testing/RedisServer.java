package org.canonic.gateway.testing;

import io.vertx.core.Vertx;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreConfig;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis server for the tests that share state between replicas: Debian's {@code redis-server} on a free port,
 * in memory only, stopped at the end. No fake: the Lua scripts, pub/sub and expiry are what production runs on.
 */
public final class RedisServer implements AutoCloseable {

    private final int port;
    private Process process;

    private RedisServer(int port) {
        this.port = port;
    }

    /** Starts one; fails with what to install when {@code redis-server} is not on the PATH. */
    public static RedisServer start() throws Exception {
        RedisServer server = new RedisServer(PackagedGateway.freePort());
        server.launch();
        return server;
    }

    /** {@code redis://127.0.0.1:<port>}: what {@code quarkus.redis.hosts} takes. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /**
     * A replica's state store on this server, as {@code gateway.state.store=redis} builds it: keys under
     * {@code prefix}, streams kept to 1000 entries, each call given {@code timeout}.
     */
    public StateStore store(Vertx vertx, String prefix, String replica, Duration timeout) {
        return new StateStore(vertx, StateStoreConfig.Kind.REDIS, Optional.of(url()), timeout, prefix, replica, 1000);
    }

    public int port() {
        return port;
    }

    /** Stops the server (its data is gone: it keeps nothing on disk). */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** Starts it again on the same port, empty. */
    public void restart() throws Exception {
        stop();
        launch();
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    private void launch() throws Exception {
        String binary = onPath("redis-server");
        if (binary == null) {
            throw new AssertionError("These tests need a real Redis: redis-server is not on the PATH. Install it "
                    + "(Debian/Ubuntu: apt-get install redis-server; .ci/run does that) and run them again.");
        }
        process = new ProcessBuilder(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!answers()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("redis-server did not start on port " + port);
            }
            Thread.sleep(20);
        }
    }

    /** A PING over a plain socket. */
    private boolean answers() {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = new byte[7];
            return socket.getInputStream().read(answer) > 0 && new String(answer, StandardCharsets.US_ASCII)
                    .startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    private static String onPath(String name) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "" : path).split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }
}

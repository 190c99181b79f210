package org.canonic.gateway.backend;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Pooled Vert.x HTTP clients per backend, one per event loop. The data path uses Vert.x directly rather than a REST
 * client: it needs raw bytes as they arrive (no SSE parsing), per-request clocks, and the ability to close one
 * upstream connection the moment its client leaves.
 *
 * <p>One client per event loop, like nginx's per-worker upstream pools: a pooled connection belongs to the event
 * loop that opened it, so a request served on another loop would have every upstream event handed across threads
 * (a wake-up and a context switch per chunk). With a pool per loop, a request and its upstream connection always
 * share a thread. The backend's concurrency limit is enforced across loops by its slots, not by these pools.
 */
public final class BackendClients {

    /**
     * Seconds an idle pooled connection is kept. vLLM's server (uvicorn) closes idle keep-alive connections after
     * 5 s; dropping ours first avoids sending a request on a socket the server is closing.
     */
    static final int POOL_IDLE_SECONDS = 4;

    private final Vertx vertx;
    private final Map<String, Backend> backends = new HashMap<>();
    private final Map<String, ConcurrentMap<Thread, HttpClient>> clients = new ConcurrentHashMap<>();

    public BackendClients(Vertx vertx, Collection<Backend> backends) {
        this.vertx = vertx;
        for (Backend backend : backends) {
            this.backends.put(backend.name(), backend);
            this.clients.put(backend.name(), new ConcurrentHashMap<>());
        }
    }

    /** The client for {@code backend} on the calling event loop (a shared one off the event loops). */
    public HttpClient clientFor(Backend backend) {
        ConcurrentMap<Thread, HttpClient> perLoop = clients.get(backend.name());
        if (perLoop == null) {
            throw new IllegalStateException("no client for backend " + backend.name());
        }
        Thread thread = Context.isOnEventLoopThread() ? Thread.currentThread() : null;
        HttpClient client = perLoop.get(thread == null ? SHARED : thread);
        return client != null ? client : perLoop.computeIfAbsent(thread == null ? SHARED : thread, t -> create(backend));
    }

    /** Key of the client used off the event loops (start-up, tests). */
    private static final Thread SHARED = new Thread("shared-backend-client-key");

    private HttpClient create(Backend backend) {
        UpstreamEndpoint endpoint = backend.endpoint();
        HttpClientOptions options = new HttpClientOptions()
                .setName("backend-" + backend.name())
                .setDefaultHost(endpoint.host())
                .setDefaultPort(endpoint.port())
                .setSsl(endpoint.ssl())
                .setForceSni(endpoint.ssl())
                .setVerifyHost(true)
                .setProtocolVersion(HttpVersion.HTTP_1_1)
                .setKeepAlive(true)
                .setKeepAliveTimeout(POOL_IDLE_SECONDS)
                .setTcpNoDelay(true)
                .setDecompressionSupported(false)
                .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, backend.clocks().connectMs()));
        return vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(backend.maxConcurrency()));
    }

    public void close() {
        clients.values().forEach(perLoop -> perLoop.values().forEach(HttpClient::close));
        clients.clear();
    }
}

package org.canonic.gateway.backend;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.net.PemTrustOptions;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The pooled Vert.x HTTP clients of one backend, one per event loop. The data path uses Vert.x directly rather than
 * a REST client: it needs raw bytes as they arrive (no SSE parsing), per-request clocks, and the ability to close one
 * upstream connection the moment its client leaves.
 *
 * <p>One client per event loop, like nginx's per-worker upstream pools: a pooled connection belongs to the event
 * loop that opened it, so a request served on another loop would have every upstream event handed across threads
 * (a wake-up and a context switch per chunk). With a pool per loop, a request and its upstream connection always
 * share a thread. The pools are only a ceiling: the backend's in-flight limit is enforced across loops by its slots,
 * which may change at run time without rebuilding the pools.
 */
public final class BackendPool implements AutoCloseable {

    /**
     * Seconds an idle pooled connection is kept. vLLM's server (uvicorn) closes idle keep-alive connections after
     * 5 s; dropping ours first avoids sending a request on a socket the server is closing.
     */
    static final int POOL_IDLE_SECONDS = 4;

    /** Connections per event loop at most; far above any useful in-flight limit, so the slots always decide. */
    static final int MAX_CONNECTIONS_PER_LOOP = 4096;

    /** Key of the client used off the event loops (start-up, probes of the tokenizer from workers, tests). */
    private static final Thread SHARED = new Thread("shared-backend-client-key");

    private final Vertx vertx;
    private final Backend backend;
    private final ConcurrentMap<Thread, HttpClient> perLoop = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public BackendPool(Vertx vertx, Backend backend) {
        this.vertx = vertx;
        this.backend = backend;
    }

    /** The client on the calling event loop (a shared one off the event loops). */
    public HttpClient client() {
        if (closed) {
            throw new IllegalStateException("the pool of backend " + backend.name() + " is closed");
        }
        Thread key = Context.isOnEventLoopThread() ? Thread.currentThread() : SHARED;
        HttpClient client = perLoop.get(key);
        return client != null ? client : perLoop.computeIfAbsent(key, t -> create());
    }

    private HttpClient create() {
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
        if (backend.pinnedCertificate() != null) {
            // Trust exactly the certificate the gateway made for this machine; it names the instance, not the
            // (changing) address, so the host name is not checked: the pin is the check.
            options.setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(backend.pinnedCertificate())))
                    .setVerifyHost(false).setForceSni(false);
        }
        return vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(MAX_CONNECTIONS_PER_LOOP));
    }

    /** Closes every connection of the pool; only once no request uses it any more. */
    @Override
    public void close() {
        closed = true;
        perLoop.values().forEach(HttpClient::close);
        perLoop.clear();
    }
}

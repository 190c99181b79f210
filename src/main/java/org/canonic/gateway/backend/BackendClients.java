package org.canonic.gateway.backend;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One pooled Vert.x HTTP client per backend. The data path uses Vert.x directly rather than a REST client: it
 * needs raw bytes as they arrive (no SSE parsing), per-request clocks, and the ability to close one upstream
 * connection the moment its client leaves.
 */
public final class BackendClients {

    /**
     * Seconds an idle pooled connection is kept. vLLM's server (uvicorn) closes idle keep-alive connections after
     * 5 s; dropping ours first avoids sending a request on a socket the server is closing.
     */
    static final int POOL_IDLE_SECONDS = 4;

    private final Map<String, HttpClient> clients = new HashMap<>();

    public BackendClients(Vertx vertx, Collection<Backend> backends) {
        for (Backend backend : backends) {
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
            PoolOptions pool = new PoolOptions().setHttp1MaxSize(backend.maxConcurrency());
            clients.put(backend.name(), vertx.createHttpClient(options, pool));
        }
    }

    public HttpClient clientFor(Backend backend) {
        HttpClient client = clients.get(backend.name());
        if (client == null) {
            throw new IllegalStateException("no client for backend " + backend.name());
        }
        return client;
    }

    public void close() {
        List.copyOf(clients.values()).forEach(HttpClient::close);
        clients.clear();
    }
}

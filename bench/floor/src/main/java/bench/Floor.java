package bench;

import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.httpproxy.HttpProxy;

/**
 * The floor: a featureless Vert.x reverse proxy, {@code HttpProxy.reverseProxy} to one origin over a keep-alive client
 * pool, nothing else (no routing, no auth, no parsing, no metrics). It runs on the same stack as the gateway (Vert.x 4,
 * Netty, NIO), with the gateway's threading: Vert.x's default event loops (2 per CPU the JVM sees) and one server
 * verticle, with its own client pool, per event loop. What the gateway costs above this is what its features cost.
 *
 * <pre>java -cp bench-floor.jar bench.Floor &lt;listen-port&gt; &lt;origin-port&gt;</pre>
 */
public final class Floor extends AbstractVerticle {

    private final int port;
    private final int originPort;

    Floor(int port, int originPort) {
        this.port = port;
        this.originPort = originPort;
    }

    @Override
    public void start(Promise<Void> started) {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions()
                .setKeepAlive(true)
                .setMaxPoolSize(1024) // above any connection count the bench uses: no request waits for a connection
                .setTcpNoDelay(true));
        HttpProxy proxy = HttpProxy.reverseProxy(client).origin(originPort, "127.0.0.1");
        vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port).setTcpNoDelay(true))
                .requestHandler(proxy)
                .listen()
                .<Void>mapEmpty()
                .onComplete(started);
    }

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        int originPort = Integer.parseInt(args[1]);
        VertxOptions options = new VertxOptions();
        Vertx vertx = Vertx.vertx(options);
        int instances = options.getEventLoopPoolSize();
        vertx.deployVerticle(() -> new Floor(port, originPort), new DeploymentOptions().setInstances(instances))
                .onSuccess(id -> System.out.println("floor on 127.0.0.1:" + port + " -> 127.0.0.1:" + originPort + ", "
                        + instances + " event loops, " + Runtime.getRuntime().availableProcessors() + " CPU(s) seen"))
                .onFailure(e -> {
                    e.printStackTrace();
                    System.exit(1);
                });
    }
}

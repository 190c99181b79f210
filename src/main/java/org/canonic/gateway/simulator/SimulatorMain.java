package org.canonic.gateway.simulator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Simulated vLLM replicas without the gateway, for benchmarks: each replica is an HTTP server with a GPU, KV cache and
 * metrics of its own. Plain Vert.x, no Quarkus, so it starts in well under a second. After
 * {@code ./mvnw -B -q package -DskipTests}:
 *
 * <pre>
 * java -cp 'target/quarkus-app/app/*:target/quarkus-app/lib/main/*:target/quarkus-app/lib/boot/*' \
 *     org.canonic.gateway.simulator.SimulatorMain --replicas 2 --speed 1,1.5
 * </pre>
 *
 * It prints {@code replica <i> http://127.0.0.1:<port>/v1} for each replica (i from 0), then {@code READY}, on
 * standard output and nothing else there (messages go to standard error), and runs until SIGTERM or SIGINT, which
 * stop it with status 0. A bad option prints the usage and exits with status 2; a port that cannot be bound, 1.
 */
public final class SimulatorMain {

    static final String USAGE = String.join("\n",
            "usage: SimulatorMain [--name value]...",
            "  --replicas N                 simulated vLLM servers, each with its own GPU, KV cache and metrics (1)",
            "  --ports p1,p2,...            one port per replica, 0 = a free one (all 0)",
            "  --host ADDRESS               address to listen on (127.0.0.1)",
            "  --model NAME                 the model id served (" + SimulatorSettings.DEFAULT_MODEL + ")",
            "  --max-model-len TOKENS       context window (16384)",
            "  --kv-blocks N                KV cache blocks of 16 tokens per replica (20000)",
            "  --max-num-seqs N             most requests running at once (256)",
            "  --max-num-batched-tokens N   token budget of one engine step (8192)",
            "  --speed f1,f2,...            step-time factor per replica, one value for all (1.0; 2.0 = twice as slow)",
            "  --stall-rate R               share of requests whose first token is held back, 0..1 (0)",
            "  --stall-ms MS                how long they are held back (5000)",
            "  --seed S                     seeds the stall draws; replica i uses S + i (1)");

    private static final List<String> OPTIONS = List.of("replicas", "ports", "host", "model", "max-model-len",
            "kv-blocks", "max-num-seqs", "max-num-batched-tokens", "speed", "stall-rate", "stall-ms", "seed");

    private SimulatorMain() {
    }

    public static void main(String[] args) {
        List<SimulatorSettings> replicas;
        try {
            replicas = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("SimulatorMain: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        Replicas running;
        try {
            running = Replicas.start(replicas, System.out);
        } catch (RuntimeException e) {
            System.err.println("SimulatorMain: " + e.getMessage() + (e.getCause() == null ? "" : ": " + e.getCause()));
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable stop = () -> {
            running.close();
            stopped.countDown();
        };
        boolean handled = true;
        for (String signal : new String[]{"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> {
                    stop.run();
                    System.exit(0);
                });
            } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
                handled = false;
            }
        }
        if (!handled) {
            // Without signal handling the JVM's default applies (exit status 128 + signal), after this hook.
            Runtime.getRuntime().addShutdownHook(new Thread(stop));
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The settings of each replica, or an {@link IllegalArgumentException} that says what is wrong. */
    static List<SimulatorSettings> parse(String... args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            String name = args[i].startsWith("--") ? args[i].substring(2) : null;
            if (name == null || !OPTIONS.contains(name)) {
                throw new IllegalArgumentException("unknown option " + args[i]);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            if (options.put(name, args[i + 1]) != null) {
                throw new IllegalArgumentException(args[i] + " given twice");
            }
        }
        int count = integer(options, "replicas", 1);
        if (count < 1) {
            throw new IllegalArgumentException("--replicas must be at least 1, got " + count);
        }
        List<String> ports = perReplica(options, "ports", "0", count);
        List<String> speeds = perReplica(options, "speed", "1.0", count);
        double stallRate = decimal("stall-rate", options.getOrDefault("stall-rate", "0"));
        long stallMs = integer(options, "stall-ms", 5000);
        if (stallMs < 0) {
            throw new IllegalArgumentException("--stall-ms must not be negative, got " + stallMs);
        }
        long seed = longInteger("seed", options.getOrDefault("seed", "1"));
        SimulatorSettings common = SimulatorSettings.defaults(List.of(options.getOrDefault("model",
                        SimulatorSettings.DEFAULT_MODEL)))
                .withMaxModelLen(integer(options, "max-model-len", 16384))
                .withKvBlocks(integer(options, "kv-blocks", 20000))
                .withBatch(integer(options, "max-num-seqs", 256), integer(options, "max-num-batched-tokens", 8192));
        String host = options.getOrDefault("host", "127.0.0.1");
        List<SimulatorSettings> replicas = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double speed = decimal("speed", speeds.get(i));
            if (!(speed > 0) || Double.isInfinite(speed)) {
                throw new IllegalArgumentException("--speed values must be positive numbers, got " + speeds.get(i));
            }
            SimulatorSettings replica = common.withListener(host, (int) longInteger("ports", ports.get(i)))
                    .withCost(common.cost().withSpeedFactor(speed))
                    .withStalls(stallRate, Duration.ofMillis(stallMs), seed + i);
            List<String> problems = replica.problems("--");
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            replicas.add(replica);
        }
        return replicas;
    }

    private static List<String> perReplica(Map<String, String> options, String name, String fallback, int count) {
        List<String> values = Arrays.asList(options.getOrDefault(name, fallback).split(",", -1));
        if (values.size() == 1) {
            return Collections.nCopies(count, values.get(0).strip());
        }
        if (values.size() != count) {
            throw new IllegalArgumentException("--" + name + " needs one value or one per replica (" + count
                    + "), got " + values.size());
        }
        return values.stream().map(String::strip).toList();
    }

    private static int integer(Map<String, String> options, String name, int fallback) {
        String value = options.get(name);
        long parsed = value == null ? fallback : longInteger(name, value);
        if (parsed != (int) parsed) {
            throw new IllegalArgumentException("--" + name + " is out of range: " + value);
        }
        return (int) parsed;
    }

    private static long longInteger(String name, String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a whole number, got '" + value + "'");
        }
    }

    private static double decimal(String name, String value) {
        try {
            return Double.parseDouble(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a number, got '" + value + "'");
        }
    }

    /** Running replicas on one Vert.x instance of their own. */
    static final class Replicas implements AutoCloseable {

        private final Vertx vertx;
        private final List<SimulatorServer> servers;

        private Replicas(Vertx vertx, List<SimulatorServer> servers) {
            this.vertx = vertx;
            this.servers = servers;
        }

        /** Starts every replica, then prints one line per replica and {@code READY} to {@code out}. */
        static Replicas start(List<SimulatorSettings> settings, PrintStream out) {
            // No file cache or class-path resolution: the simulator serves no files, and should leave no directory.
            Vertx vertx = Vertx.vertx(new VertxOptions().setFileSystemOptions(
                    new FileSystemOptions().setFileCachingEnabled(false).setClassPathResolvingEnabled(false)));
            ObjectMapper mapper = new ObjectMapper();
            List<SimulatorServer> servers = new ArrayList<>();
            Replicas replicas = new Replicas(vertx, servers);
            try {
                for (SimulatorSettings replica : settings) {
                    servers.add(SimulatorServer.start(vertx, replica, mapper));
                }
            } catch (RuntimeException e) {
                replicas.close();
                throw e;
            }
            for (int i = 0; i < servers.size(); i++) {
                out.println("replica " + i + " " + url(settings.get(i).host(), servers.get(i).port()));
            }
            out.println("READY");
            out.flush();
            return replicas;
        }

        List<SimulatorServer> servers() {
            return servers;
        }

        /** A wildcard address is reached on loopback; any other is printed as it was given. */
        private static String url(String host, int port) {
            String reachable = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
            return "http://" + (reachable.contains(":") ? "[" + reachable + "]" : reachable) + ":" + port + "/v1";
        }

        @Override
        public void close() {
            servers.forEach(SimulatorServer::stop);
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Stopping anyway: the process is on its way out.
            }
        }
    }
}

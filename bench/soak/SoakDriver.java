// The load of bench/soak.sh: a bounded number of clients sending chat completions to the gateway for a bounded time,
// and a verdict on every answer. JDK 17, one file, JDK classes only (java.net.http):
//
//   java bench/soak/SoakDriver.java --url http://127.0.0.1:18080 --model soak --minutes 10 --clients 48 \
//        --disconnect-share 0.1 --hard-timeout-s 60 --run-id soak-1 --out /tmp/soak [--api-key KEY]
//
// Each client loops until the deadline: half of its requests stream, half do not; a share of the streams is abandoned
// on purpose after the first content events (the client closes the connection). Every request carries
// x-request-id <run-id>-<n>, so the gateway's ledger can be matched line by line. Every request ends in exactly one
// class:
//   ok_json, ok_stream         a 200 answer: a JSON completion, or a stream ending in data: [DONE]
//   error_json                 an OpenAI-shaped error answer (4xx/5xx JSON with "error")
//   error_stream               a 200 stream that ended with a data: {"error":...} event and data: [DONE]
//   abandoned                  a stream the client closed on purpose
//   hung                       no end within --hard-timeout-s (longer than every gateway clock): a bug
//   silent_end                 a 200 stream that ended without data: [DONE]: a bug
//   malformed                  anything else (wrong content type, a 200 without choices, an error without "error")
//   io_error                   the connection failed (reset, refused): a bug when the gateway is up
// Output in --out: summary.txt (key=value), sent-ids.txt (one request id per line), bad.txt (details of the bug
// classes). Progress goes to stdout every 10 s.
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

public class SoakDriver {

    static final List<String> CLASSES = List.of("ok_json", "ok_stream", "error_json", "error_stream", "abandoned",
            "hung", "silent_end", "malformed", "io_error");
    static final List<String> BUGS = List.of("hung", "silent_end", "malformed", "io_error");

    final URI endpoint;
    final String model;
    final String apiKey;
    final double disconnectShare;
    final Duration hardTimeout;
    final String runId;
    final HttpClient client;
    final ScheduledExecutorService watchdog = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "soak-watchdog");
        t.setDaemon(true);
        return t;
    });
    final AtomicLong sequence = new AtomicLong();
    final AtomicLong ended = new AtomicLong();
    final Map<String, AtomicLong> classes = new ConcurrentHashMap<>();
    final Map<String, AtomicLong> statuses = new ConcurrentHashMap<>();
    final AtomicLong keepAlives = new AtomicLong();
    final ConcurrentLinkedQueue<String> sentIds = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
    final List<Long> latenciesMs = Collections.synchronizedList(new ArrayList<>());

    SoakDriver(Map<String, String> options) {
        String url = options.get("url").replaceAll("/+$", "");
        this.endpoint = URI.create(url + "/v1/chat/completions");
        this.model = options.getOrDefault("model", "soak");
        this.apiKey = options.get("api-key");
        this.disconnectShare = Double.parseDouble(options.getOrDefault("disconnect-share", "0.1"));
        this.hardTimeout = Duration.ofSeconds(Long.parseLong(options.getOrDefault("hard-timeout-s", "60")));
        this.runId = options.getOrDefault("run-id", "soak");
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .executor(Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "soak-http");
                    t.setDaemon(true);
                    return t;
                }))
                .build();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new TreeMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        SoakDriver driver = new SoakDriver(options);
        double minutes = Double.parseDouble(options.getOrDefault("minutes", "10"));
        int clients = Integer.parseInt(options.getOrDefault("clients", "48"));
        Path out = Path.of(options.getOrDefault("out", "."));
        Files.createDirectories(out);
        long deadline = System.nanoTime() + (long) (minutes * 60e9);

        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Thread thread = new Thread(() -> driver.clientLoop(deadline), "soak-client-" + i);
            thread.start();
            threads.add(thread);
        }
        long start = System.nanoTime();
        long nextReport = start;
        while (threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(500);
            if (System.nanoTime() < nextReport) {
                continue;
            }
            nextReport += 10_000_000_000L;
            System.out.printf("[driver] %4ds sent %d ended %d in flight %d bugs %d%n",
                    (System.nanoTime() - start) / 1_000_000_000L, driver.sequence.get(), driver.ended.get(),
                    driver.sequence.get() - driver.ended.get(), driver.bugs());
        }
        driver.write(out, (System.nanoTime() - start) / 1e9);
        System.exit(0);
    }

    long bugs() {
        return BUGS.stream().mapToLong(c -> classes.getOrDefault(c, new AtomicLong()).get()).sum();
    }

    void clientLoop(long deadline) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (System.nanoTime() < deadline) {
            boolean stream = random.nextBoolean();
            boolean abandon = stream && random.nextDouble() < disconnectShare;
            String id = runId + "-" + sequence.incrementAndGet();
            sentIds.add(id);
            long begin = System.nanoTime();
            String verdict;
            try {
                verdict = one(id, stream, abandon, random.nextInt(1, 4));
            } catch (Exception e) {
                verdict = "io_error";
                bad.add(id + " io_error " + e);
            }
            latenciesMs.add((System.nanoTime() - begin) / 1_000_000L);
            classes.computeIfAbsent(verdict, k -> new AtomicLong()).incrementAndGet();
            ended.incrementAndGet();
            try {
                Thread.sleep(random.nextInt(5, 50));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Sends one request and reads its answer to the end; returns its class. */
    String one(String id, boolean stream, boolean abandon, int abandonAfter) throws Exception {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":16,\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"soak request " + id + "\"}]}";
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint)
                .header("content-type", "application/json")
                .header("x-request-id", id)
                .timeout(hardTimeout)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null && !apiKey.isEmpty()) {
            request.header("authorization", "Bearer " + apiKey);
        }
        long deadline = System.nanoTime() + hardTimeout.toNanos();
        CompletableFuture<HttpResponse<InputStream>> future =
                client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream());
        HttpResponse<InputStream> response;
        try {
            response = future.get(hardTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            bad.add(id + " hung: no response head within " + hardTimeout.toSeconds() + " s (stream=" + stream + ")");
            return "hung";
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof java.net.http.HttpTimeoutException) {
                bad.add(id + " hung: no response head within " + hardTimeout.toSeconds() + " s (stream=" + stream + ")");
                return "hung";
            }
            bad.add(id + " io_error before the head: " + e.getCause());
            return "io_error";
        }
        statuses.computeIfAbsent(String.valueOf(response.statusCode()), k -> new AtomicLong()).incrementAndGet();
        InputStream in = response.body();
        AtomicBoolean expired = new AtomicBoolean();
        long remaining = Math.max(1, deadline - System.nanoTime());
        ScheduledFuture<?> timer = watchdog.schedule(() -> {
            expired.set(true);
            try {
                in.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }, remaining, TimeUnit.NANOSECONDS);
        try {
            String type = response.headers().firstValue("content-type").orElse("");
            if (response.statusCode() == 200 && stream && type.startsWith("text/event-stream")) {
                return readStream(id, in, abandon, abandonAfter, expired);
            }
            byte[] bytes;
            try {
                bytes = in.readAllBytes();
            } catch (IOException e) {
                if (expired.get()) {
                    bad.add(id + " hung: body not complete within " + hardTimeout.toSeconds() + " s (status "
                            + response.statusCode() + ")");
                    return "hung";
                }
                bad.add(id + " io_error in the body (status " + response.statusCode() + "): " + e);
                return "io_error";
            }
            String text = new String(bytes, StandardCharsets.UTF_8);
            if (response.statusCode() == 200 && !stream && type.startsWith("application/json")
                    && text.contains("\"choices\"")) {
                return "ok_json";
            }
            if (response.statusCode() >= 400 && text.contains("\"error\"")) {
                return "error_json";
            }
            bad.add(id + " malformed: status " + response.statusCode() + " type " + type + " stream=" + stream
                    + " body " + text.substring(0, Math.min(300, text.length())));
            return "malformed";
        } finally {
            timer.cancel(false);
            try {
                in.close();
            } catch (IOException ignored) {
                // done
            }
        }
    }

    String readStream(String id, InputStream in, boolean abandon, int abandonAfter, AtomicBoolean expired) {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        int content = 0;
        boolean error = false;
        boolean done = false;
        String last = "";
        try {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith(":")) {
                    keepAlives.incrementAndGet();
                    continue;
                }
                if (!line.startsWith("data:")) {
                    continue;
                }
                last = line;
                String data = line.substring(5).trim();
                if (done) {
                    bad.add(id + " malformed: data after [DONE]: " + data);
                    return "malformed";
                }
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                if (data.startsWith("{\"error\"")) {
                    error = true;
                    continue;
                }
                if (data.contains("\"content\":\"tok")) {
                    content++;
                    if (abandon && content >= abandonAfter) {
                        in.close(); // the client leaves mid-stream
                        return "abandoned";
                    }
                }
            }
        } catch (IOException e) {
            if (expired.get()) {
                bad.add(id + " hung: stream not ended within " + hardTimeout.toSeconds() + " s after " + content
                        + " content events; last: " + last);
                return "hung";
            }
            bad.add(id + " io_error mid-stream after " + content + " content events: " + e);
            return "io_error";
        }
        if (!done) {
            bad.add(id + " silent_end: the stream ended without [DONE] after " + content + " content events; last: "
                    + last);
            return "silent_end";
        }
        return error ? "error_stream" : "ok_stream";
    }

    void write(Path out, double seconds) throws IOException {
        List<Long> latencies;
        synchronized (latenciesMs) {
            latencies = new ArrayList<>(latenciesMs);
        }
        Collections.sort(latencies);
        try (PrintWriter summary = new PrintWriter(Files.newBufferedWriter(out.resolve("summary.txt")))) {
            summary.printf("seconds=%.1f%n", seconds);
            summary.println("sent=" + sequence.get());
            summary.println("ended=" + ended.get());
            for (String name : CLASSES) {
                summary.println(name + "=" + classes.getOrDefault(name, new AtomicLong()).get());
            }
            summary.println("bugs=" + bugs());
            summary.println("keep_alive_comments=" + keepAlives.get());
            new TreeMap<>(statuses).forEach((status, count) -> summary.println("status_" + status + "=" + count.get()));
            if (!latencies.isEmpty()) {
                summary.println("latency_p50_ms=" + latencies.get(latencies.size() / 2));
                summary.println("latency_p99_ms=" + latencies.get((int) Math.min(latencies.size() - 1, latencies.size() * 0.99)));
                summary.println("latency_max_ms=" + latencies.get(latencies.size() - 1));
            }
        }
        Files.write(out.resolve("sent-ids.txt"), sentIds);
        Files.write(out.resolve("bad.txt"), bad);
    }
}

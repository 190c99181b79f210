package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import org.canonic.gateway.testing.FakeVllm;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One simulated vLLM replica on a virtual clock, for the compressed day ({@link CapacityDay}): a real HTTP server the
 * gateway registers, probes, scrapes and streams from, whose engine is a model in simulated time. It runs {@code seqs}
 * sequences at once, first come first served; a request that finds them all busy waits in vLLM's queue. Each request
 * says (in its {@code user} field, written by the driver) when it arrived and how long its prefill and decode take in
 * simulated time; the replica schedules it, records its time to first token, and holds the HTTP answer open until the
 * simulation reaches its first token (role and content chunk) and its end (finish chunk, {@code [DONE]}). So the
 * gateway's own in-flight counts and the {@code /metrics} page (running and waiting at the simulated now) are what a
 * real vLLM would show at that moment, while a whole day passes in minutes.
 */
final class SimReplica implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** What the replica tells the driver of each request it took: the simulated time to first token. */
    interface Sink {
        void accepted(long id, long ttftMs, int port);
    }

    private record Job(long id, long arrivalMs, long startMs, long firstTokenMs, long endMs,
                       HttpServerResponse response, boolean[] headSent) {
    }

    private final HttpServer server;
    private final String model;
    private final LongSupplier clock;
    private final Sink sink;
    private final long[] seqFreeAtMs;
    private final List<Job> jobs = new ArrayList<>();
    /** The simulated time of the last {@code /metrics} read: the driver waits for a scrape of the present. */
    final AtomicLong lastScrapeMs = new AtomicLong(Long.MIN_VALUE);
    /** The simulated time the machine's image is pulled and vLLM loaded (the provider says "running" from then). */
    final long readyAtMs;

    SimReplica(Vertx vertx, String model, int seqs, LongSupplier clock, long readyAtMs, Sink sink) {
        this.model = model;
        this.clock = clock;
        this.sink = sink;
        this.readyAtMs = readyAtMs;
        this.seqFreeAtMs = new long[seqs];
        java.util.Arrays.fill(seqFreeAtMs, Long.MIN_VALUE);
        this.server = vertx.createHttpServer().requestHandler(this::handle);
        try {
            server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    int port() {
        return server.actualPort();
    }

    private void handle(HttpServerRequest request) {
        request.body().onSuccess(body -> {
            HttpServerResponse response = request.response();
            switch (request.path()) {
                case "/health" -> response.setStatusCode(200).end();
                case "/v1/models" -> response.setStatusCode(200).putHeader("content-type", "application/json")
                        .end("{\"object\":\"list\",\"data\":[{\"id\":\"" + model + "\",\"object\":\"model\","
                                + "\"created\":1,\"owned_by\":\"vllm\",\"root\":\"" + model
                                + "\",\"parent\":null,\"max_model_len\":16384}]}");
                case "/metrics" -> metrics(response);
                case "/v1/chat/completions" -> accept(response, body.toString());
                default -> response.setStatusCode(404).end("{\"detail\":\"Not Found\"}");
            }
        });
    }

    private void metrics(HttpServerResponse response) {
        long now = clock.getAsLong();
        int running = 0;
        int waiting = 0;
        synchronized (this) {
            for (Job j : jobs) {
                if (j.startMs() <= now && now < j.endMs()) {
                    running++;
                } else if (j.arrivalMs() <= now && now < j.startMs()) {
                    waiting++;
                }
            }
        }
        lastScrapeMs.accumulateAndGet(now, Math::max);
        response.setStatusCode(200).putHeader("content-type", "text/plain; version=0.0.4")
                .end(FakeVllm.vllmMetrics(running, waiting, Math.min(1.0, running / (double) seqFreeAtMs.length),
                        0, 0));
    }

    /** {@code user}: {@code sim:<id>:<arrival ms>:<prefill ms>:<decode ms>}, in simulated time. */
    private void accept(HttpServerResponse response, String body) {
        String[] parts;
        try {
            JsonNode json = MAPPER.readTree(body);
            parts = json.path("user").asText("").split(":");
        } catch (Exception e) {
            parts = new String[0];
        }
        if (parts.length != 5 || !parts[0].equals("sim")) {
            response.setStatusCode(400).end("{\"error\":{\"message\":\"not a simulation request\"}}");
            return;
        }
        long id = Long.parseLong(parts[1]);
        long arrival = Long.parseLong(parts[2]);
        long prefill = Long.parseLong(parts[3]);
        long decode = Long.parseLong(parts[4]);
        Job job;
        synchronized (this) {
            int seq = 0;
            for (int k = 1; k < seqFreeAtMs.length; k++) {
                if (seqFreeAtMs[k] < seqFreeAtMs[seq]) {
                    seq = k;
                }
            }
            long start = Math.max(arrival, seqFreeAtMs[seq]);
            seqFreeAtMs[seq] = start + prefill + decode;
            job = new Job(id, arrival, start, start + prefill, start + prefill + decode, response, new boolean[1]);
            jobs.add(job);
        }
        sink.accepted(id, job.firstTokenMs() - arrival, port());
        // The simulation may already be past its first token (the request crossed the gateway while time moved).
        advance(clock.getAsLong());
    }

    /** Sends what the simulated engine produced by {@code nowMs}: first tokens, and whole answers that ended. */
    synchronized void advance(long nowMs) {
        List<Job> due = new ArrayList<>();
        {
            for (Iterator<Job> it = jobs.iterator(); it.hasNext(); ) {
                Job j = it.next();
                if (j.firstTokenMs() <= nowMs && !j.headSent()[0] || j.endMs() <= nowMs) {
                    due.add(j);
                }
                if (j.endMs() <= nowMs) {
                    it.remove();
                }
            }
        }
        for (Job j : due) {
            HttpServerResponse r = j.response();
            if (r.closed() || r.ended()) {
                continue;
            }
            if (!j.headSent()[0]) {
                j.headSent()[0] = true;
                r.setStatusCode(200).setChunked(true).putHeader("content-type", "text/event-stream");
                r.write(chunk("{\"role\":\"assistant\",\"content\":\"\"}", null));
                r.write(chunk("{\"content\":\"ok\"}", null));
            }
            if (j.endMs() <= nowMs) {
                r.write(chunk("{}", "\"stop\""));
                r.end("data: [DONE]\n\n");
            }
        }
    }

    /** Requests taken and not yet ended in simulated time. */
    synchronized int open() {
        return jobs.size();
    }

    private String chunk(String delta, String finish) {
        return "data: {\"id\":\"chatcmpl-sim\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model
                + "\",\"choices\":[{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":"
                + (finish == null ? "null" : finish) + "}]}\n\n";
    }

    @Override
    public void close() {
        server.close();
    }
}

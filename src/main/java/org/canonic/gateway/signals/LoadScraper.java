package org.canonic.gateway.signals;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Reads one vLLM backend's {@code GET /metrics} on a short interval, off the request path, and hands each good
 * reading to its owner. A page that is missing (404), slow, too large or not the text format gives no reading: the
 * owner's last one then goes stale and routing falls back on the gateway's own counts. Nothing here can fail a
 * request.
 *
 * <p>A backend that keeps failing is asked less often (the interval doubles per failure, up to ten intervals and at
 * most {@link #MAX_BACKOFF_MS}; a 404 waits that long at once: the server has no metrics page), so a backend without
 * metrics costs one request every ten seconds, not one a second. The next scrape is scheduled only once the current
 * one ended, so scrapes never pile up on a slow backend. Runs on one event loop, its own.
 */
public final class LoadScraper {

    /** How the last scrape went, for the admin view. */
    public enum Status { PENDING, OK, MISSING, SLOW, GARBAGE, FAILED }

    /** A page larger than this is not vLLM's (~100-300 KB with every histogram). */
    static final int MAX_PAGE_BYTES = 4 << 20;
    static final long MAX_BACKOFF_MS = 30_000;

    private final Vertx vertx;
    private final Supplier<HttpClient> client;
    private final String path;
    private final long intervalMs;
    private final long timeoutMs;
    private final Consumer<VllmSignals> sink;
    private volatile Status status = Status.PENDING;
    private volatile boolean stopped;
    private volatile long timer = -1;
    private int failures;

    /**
     * @param client   the backend's HTTP client on the calling event loop
     * @param path     the metrics page's path on the backend ({@code /metrics} at the server root)
     * @param sink     gets each good reading, on the scraper's event loop
     */
    public LoadScraper(Vertx vertx, Supplier<HttpClient> client, String path, long intervalMs, long timeoutMs,
                       Consumer<VllmSignals> sink) {
        this.vertx = vertx;
        this.client = client;
        this.path = path;
        this.intervalMs = Math.max(1, intervalMs);
        this.timeoutMs = Math.max(1, timeoutMs);
        this.sink = sink;
    }

    public void start() {
        vertx.runOnContext(v -> scrape());
    }

    public void stop() {
        stopped = true;
        long pending = timer;
        if (pending >= 0) {
            vertx.cancelTimer(pending);
        }
    }

    public Status status() {
        return status;
    }

    private void scrape() {
        timer = -1;
        if (stopped) {
            return;
        }
        Scrape scrape = new Scrape();
        scrape.deadline = vertx.setTimer(timeoutMs, id -> scrape.end(Status.SLOW, null));
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setURI(path)
                .setConnectTimeout(timeoutMs);
        client.get().request(options).onComplete(sent -> {
            if (sent.failed()) {
                scrape.end(Status.FAILED, null);
                return;
            }
            scrape.request = sent.result();
            scrape.request.exceptionHandler(e -> scrape.end(Status.FAILED, null));
            scrape.request.send().onComplete(answered -> {
                if (answered.failed()) {
                    scrape.end(Status.FAILED, null);
                } else {
                    scrape.read(answered.result());
                }
            });
        });
    }

    /** One scrape in flight: ends exactly once, by its answer, a failure or its deadline. */
    private final class Scrape {
        long deadline;
        HttpClientRequest request;
        private boolean ended;
        private final Buffer page = Buffer.buffer();

        void read(HttpClientResponse response) {
            if (ended) {
                return;
            }
            // Set first: ending early resets the connection, which the response reports as an exception.
            response.exceptionHandler(e -> end(Status.FAILED, null));
            if (response.statusCode() != 200) {
                end(response.statusCode() == 404 ? Status.MISSING : Status.FAILED, null);
                return;
            }
            response.handler(chunk -> {
                if (!ended && page.length() + chunk.length() > MAX_PAGE_BYTES) {
                    end(Status.GARBAGE, null);
                } else if (!ended) {
                    page.appendBuffer(chunk);
                }
            });
            response.endHandler(v -> {
                if (!ended) {
                    parse();
                }
            });
        }

        private void parse() {
            VllmSignals signals;
            try {
                Map<String, PrometheusText.Aggregate> families = PrometheusText.read(page.toString(),
                        VllmSignals.FAMILIES);
                signals = VllmSignals.of(families, System.nanoTime());
            } catch (PrometheusText.Malformed e) {
                signals = null;
            }
            end(signals == null ? Status.GARBAGE : Status.OK, signals);
        }

        void end(Status outcome, VllmSignals signals) {
            if (ended) {
                return;
            }
            ended = true;
            vertx.cancelTimer(deadline);
            if (outcome != Status.OK && request != null) {
                // Whatever is left of the answer is not read: close the connection rather than pool it half-read.
                request.reset();
            }
            status = outcome;
            if (stopped) {
                return;
            }
            if (signals != null) {
                sink.accept(signals);
            }
            scheduleNext(outcome);
        }
    }

    private void scheduleNext(Status outcome) {
        long backoff = Math.max(intervalMs, Math.min(MAX_BACKOFF_MS, 10 * intervalMs));
        long delay;
        if (outcome == Status.OK) {
            failures = 0;
            delay = intervalMs;
        } else if (outcome == Status.MISSING) {
            delay = backoff;
        } else {
            failures = Math.min(failures + 1, 20);
            delay = Math.min(backoff, intervalMs << failures);
        }
        // Up to 10 % jitter, so that the scrapes of many backends do not align.
        long spread = delay / 10;
        long jitter = spread == 0 ? 0 : ThreadLocalRandom.current().nextLong(spread + 1);
        timer = vertx.setTimer(Math.max(1, delay + jitter), id -> scrape());
    }
}

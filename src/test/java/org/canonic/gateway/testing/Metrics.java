package org.canonic.gateway.testing;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A scrape of {@code /q/metrics} (on the management interface), with sums over series selected by labels. Quarkus
 * serves OpenMetrics, where a sample may end with an exemplar ({@code name{...} 3.0 # {trace_id="..."} 0.2 1.7e9}):
 * the value is what comes before {@code " # "}, the exemplar is kept apart ({@link #exemplars}).
 */
public final class Metrics {

    private static final String EXEMPLAR = " # ";

    private final String text;
    private final Map<String, Double> series = new LinkedHashMap<>();
    private final Map<String, String> exemplars = new LinkedHashMap<>();

    private Metrics(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String sample = line;
            int exemplar = line.indexOf(EXEMPLAR);
            if (exemplar >= 0) {
                sample = line.substring(0, exemplar);
            }
            int space = sample.lastIndexOf(' ');
            try {
                series.put(sample.substring(0, space), Double.parseDouble(sample.substring(space + 1)));
                if (exemplar >= 0) {
                    exemplars.put(sample.substring(0, space), line.substring(exemplar + EXEMPLAR.length()));
                }
            } catch (NumberFormatException e) {
                // Not a sample line.
            }
        }
    }

    /** {@code management}: a client for the management interface, where /q/metrics is served. */
    public static Metrics scrape(GatewayClient management) {
        return new Metrics(management.get("/q/metrics").body());
    }

    /**
     * A scrape taken once a request on {@code route} is counted (after {@code before}): the gateway records a request
     * after its last byte went out, and the scrape arrives on the management interface's own connection, so it can
     * overtake that bookkeeping. The request's counter ({@code gateway_requests_total}) is the last of its meters to
     * move, but a scrape is not atomic: one that reads that counter after it moved may have read the request's
     * attempts, retries or fallbacks before they did. The next scrape starts once that one ended, so it sees them all
     * (MetricsTest failed about 1 run in 4 without both).
     */
    public static Metrics afterRequest(GatewayClient management, Metrics before, String route)
            throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        Metrics after = scrape(management);
        while (after.sum("gateway_requests_total", "route", route)
                <= before.sum("gateway_requests_total", "route", route) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            after = scrape(management);
        }
        return scrape(management);
    }

    public String text() {
        return text;
    }

    /**
     * The exemplars ({@code {trace_id="...",span_id="..."} value timestamp}) of every series of {@code name} whose
     * labels include all of {@code labels}, by series.
     */
    public Map<String, String> exemplars(String name, String... labels) {
        Map<String, String> found = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : exemplars.entrySet()) {
            if (matches(entry.getKey(), name, labels)) {
                found.put(entry.getKey(), entry.getValue());
            }
        }
        return found;
    }

    /** Every exemplar of the scrape, by series. */
    public Map<String, String> exemplars() {
        return Map.copyOf(exemplars);
    }

    /** Sum of every series of {@code name} whose labels include all of {@code labels} (k1, v1, k2, v2, ...). */
    public double sum(String name, String... labels) {
        double total = 0;
        for (Map.Entry<String, Double> entry : series.entrySet()) {
            if (matches(entry.getKey(), name, labels)) {
                total += entry.getValue();
            }
        }
        return total;
    }

    private static boolean matches(String key, String name, String... labels) {
        if (!(key.equals(name) || key.startsWith(name + "{"))) {
            return false;
        }
        for (int i = 0; i + 1 < labels.length; i += 2) {
            if (!key.contains(labels[i] + "=\"" + labels[i + 1] + "\"")) {
                return false;
            }
        }
        return true;
    }
}
